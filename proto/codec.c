#include "codec.h"

#include "err.h"

#include <stdio.h>
#include <string.h>

typedef struct {
    int type;
    int body_case;
    const char *name;
} type_entry_t;

#define T(t, b) {HPSEARCH__MSG_TYPE__##t, HPSEARCH__ENVELOPE__BODY_##b, #t}
static const type_entry_t types[] = {
    T(HELLO, HELLO),
    T(HELLO_REPLY, HELLO_REPLY),
    T(HEARTBEAT, HEARTBEAT),
    T(HEARTBEAT_REPLY, HEARTBEAT_REPLY),
    T(GET_TRIAL, GET_TRIAL),
    T(TRIAL, TRIAL),
    T(NO_TRIAL, NO_TRIAL),
    T(PROGRESS, PROGRESS),
    T(RESULT, RESULT),
    T(ACK, ACK),
    T(CANCEL, CANCEL),
    T(ERROR, ERROR),
    T(SUBMIT, SUBMIT),
    T(SUBMIT_REPLY, SUBMIT_REPLY),
    T(STATUS, STATUS_REQUEST),
    T(STATUS_REPLY, STATUS_REPLY),
    T(CANCEL_STUDY, CANCEL_STUDY),
    T(LIST_WORKERS, LIST_WORKERS),
    T(WORKERS_REPLY, WORKERS_REPLY),
    T(QUERY, QUERY),
    T(QUERY_REPLY, QUERY_REPLY),
    T(SHUTDOWN, SHUTDOWN),
    T(ENQUEUE, ENQUEUE),
    T(ENQUEUE_REPLY, ENQUEUE_REPLY),
    T(RESUME, RESUME_STUDY),
    T(ASK, ASK),
    T(ASK_REPLY, ASK_REPLY),
    T(TELL, TELL),
    T(LOG_EVENT, LOG_EVENT),
};
#undef T

static const type_entry_t *find_type(int type)
{
    for (size_t i = 0; i < HP_ARRAY_LEN(types); i++)
        if (types[i].type == type)
            return &types[i];
    return NULL;
}

const char *hp_proto_type_name(int type)
{
    const type_entry_t *t = find_type(type);
    return t ? t->name : "UNKNOWN";
}

int hp_proto_body_case(int type)
{
    const type_entry_t *t = find_type(type);
    return t ? t->body_case : 0;
}

void hp_proto_set_body(Hpsearch__Envelope *env, int type, void *body)
{
    const type_entry_t *t = find_type(type);
    HP_ASSERT(t != NULL);
    const ProtobufCFieldDescriptor *fd =
        protobuf_c_message_descriptor_get_field(&hpsearch__envelope__descriptor,
                                                (unsigned)t->body_case);
    HP_ASSERT(fd != NULL && fd->type == PROTOBUF_C_TYPE_MESSAGE);
    HP_ASSERT(((const ProtobufCMessage *)body)->descriptor == fd->descriptor);
    env->type = type;
    env->body_case = t->body_case;
    *(void **)((char *)env + fd->offset) = body;
}

int hp_proto_encode(Hpsearch__Envelope *env, hp_buf_t *out)
{
    if (env->version == 0)
        env->version = HP_PROTO_VERSION;
    const type_entry_t *t = find_type(env->type);
    if (!t || (int)env->body_case != t->body_case)
        return HP_EINVAL;
    size_t n = hpsearch__envelope__get_packed_size(env);
    if (n > HP_PROTO_MAX_MSG)
        return HP_EINVAL;
    hp_buf_reset(out);
    uint8_t *dst = hp_buf_extend(out, n);
    size_t packed = hpsearch__envelope__pack(env, dst);
    HP_ASSERT(packed == n);
    return 0;
}

/* Walks a decoded message through its descriptor and enforces the bounds
 * of codec.h on every string, bytes, repeated field, enum and sub-message,
 * so callers never meet a 2 GB string or an enum value outside the schema. */
static int check_message(const ProtobufCMessage *m, int depth, const char *path,
                         char *err, size_t errlen)
{
    if (depth > 8)
        return hp_errf(err, errlen, HP_EPROTO, "%s: nested too deeply", path);
    const ProtobufCMessageDescriptor *d = m->descriptor;
    const char *base = (const char *)m;
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *fd = &d->fields[i];
        if (fd->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
            uint32_t which = *(const uint32_t *)(base + fd->quantifier_offset);
            if (which != fd->id)
                continue;
        }
        size_t count = 1;
        const char *elems = base + fd->offset;
        if (fd->label == PROTOBUF_C_LABEL_REPEATED) {
            count = *(const size_t *)(base + fd->quantifier_offset);
            if (count > HP_PROTO_MAX_REPEATED)
                return hp_errf(err, errlen, HP_EPROTO, "%s.%s: %zu elements (limit %u)",
                               path, fd->name, count, HP_PROTO_MAX_REPEATED);
            elems = *(const char *const *)elems;
            if (count && !elems)
                return hp_errf(err, errlen, HP_EPROTO, "%s.%s: missing elements", path, fd->name);
        }
        for (size_t k = 0; k < count; k++) {
            switch (fd->type) {
            case PROTOBUF_C_TYPE_STRING: {
                const char *s = ((const char *const *)elems)[k];
                size_t n = s ? strlen(s) : 0;
                if (n > HP_PROTO_MAX_STRING)
                    return hp_errf(err, errlen, HP_EPROTO, "%s.%s: string of %zu bytes (limit %u)",
                                   path, fd->name, n, HP_PROTO_MAX_STRING);
                break;
            }
            case PROTOBUF_C_TYPE_BYTES: {
                /* the envelope's auth token is small; a program's output
                 * (RESULT.stdout_text) is bounded like a string */
                const ProtobufCBinaryData *b = &((const ProtobufCBinaryData *)elems)[k];
                unsigned limit = depth == 0 && strcmp(fd->name, "auth_token") == 0
                                     ? HP_PROTO_MAX_TOKEN
                                     : HP_PROTO_MAX_STRING;
                if (b->len > limit)
                    return hp_errf(err, errlen, HP_EPROTO, "%s.%s: %zu bytes (limit %u)", path,
                                   fd->name, b->len, limit);
                break;
            }
            case PROTOBUF_C_TYPE_ENUM: {
                int v = ((const int *)elems)[k];
                if (!protobuf_c_enum_descriptor_get_value(fd->descriptor, v))
                    return hp_errf(err, errlen, HP_EPROTO, "%s.%s: unknown enum value %d", path,
                                   fd->name, v);
                break;
            }
            case PROTOBUF_C_TYPE_MESSAGE: {
                const ProtobufCMessage *sub = ((const ProtobufCMessage *const *)elems)[k];
                if (!sub) {
                    if (fd->label == PROTOBUF_C_LABEL_REPEATED)
                        return hp_errf(err, errlen, HP_EPROTO, "%s.%s: null element", path, fd->name);
                    break;
                }
                char sub_path[128];
                /* only for messages: a path too long to keep is cut, marked */
                if (snprintf(sub_path, sizeof sub_path, "%s.%s", path, fd->name) >=
                    (int)sizeof sub_path)
                    memcpy(sub_path + sizeof sub_path - 4, "...", 4);
                int rc = check_message(sub, depth + 1, sub_path, err, errlen);
                if (rc < 0)
                    return rc;
                break;
            }
            default:
                break;
            }
        }
    }
    return 0;
}

static int check_name(const char *s, const char *what, char *err, size_t errlen)
{
    if (!s || !*s)
        return hp_errf(err, errlen, HP_EPROTO, "%s is empty", what);
    if (strlen(s) > HP_PROTO_MAX_NAME)
        return hp_errf(err, errlen, HP_EPROTO, "%s longer than %u bytes", what, HP_PROTO_MAX_NAME);
    return 0;
}

static int check_lease(const Hpsearch__LeaseRef *l, const char *what, char *err, size_t errlen)
{
    if (!l || l->trial_id == 0 || l->lease_id == 0)
        return hp_errf(err, errlen, HP_EPROTO, "%s: missing lease (trial_id and lease_id)", what);
    return 0;
}

static int check_metrics(Hpsearch__Metric **m, size_t n, const char *what, char *err,
                         size_t errlen)
{
    for (size_t i = 0; i < n; i++) {
        int rc = check_name(m[i]->name, what, err, errlen);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* Semantic checks that the schema cannot express. */
static int check_body(const Hpsearch__Envelope *e, char *err, size_t errlen)
{
    int rc = 0;
    switch (e->body_case) {
    case HPSEARCH__ENVELOPE__BODY_HELLO:
        if (e->hello->slots < 1 || e->hello->slots > 1024)
            return hp_errf(err, errlen, HP_EPROTO, "HELLO: slots must be 1..1024 (got %u)",
                           e->hello->slots);
        return check_name(e->hello->hostname, "HELLO: hostname", err, errlen);
    case HPSEARCH__ENVELOPE__BODY_HEARTBEAT:
        for (size_t i = 0; i < e->heartbeat->n_running && rc == 0; i++)
            rc = check_lease(e->heartbeat->running[i], "HEARTBEAT.running", err, errlen);
        return rc;
    case HPSEARCH__ENVELOPE__BODY_PROGRESS:
        if ((rc = check_lease(e->progress->lease, "PROGRESS", err, errlen)) < 0)
            return rc;
        return check_metrics(e->progress->metrics, e->progress->n_metrics,
                             "PROGRESS: metric name", err, errlen);
    case HPSEARCH__ENVELOPE__BODY_RESULT:
        if ((rc = check_lease(e->result->lease, "RESULT", err, errlen)) < 0)
            return rc;
        if (e->result->outcome == HPSEARCH__TRIAL_OUTCOME__OUTCOME_UNSPECIFIED)
            return hp_errf(err, errlen, HP_EPROTO, "RESULT: outcome not set");
        return check_metrics(e->result->metrics, e->result->n_metrics, "RESULT: metric name",
                             err, errlen);
    case HPSEARCH__ENVELOPE__BODY_CANCEL:
        return check_lease(e->cancel->lease, "CANCEL", err, errlen);
    case HPSEARCH__ENVELOPE__BODY_SUBMIT:
        if (!e->submit->spec_text || !*e->submit->spec_text)
            return hp_errf(err, errlen, HP_EPROTO, "SUBMIT: spec_text is empty");
        if (e->submit->parent && strlen(e->submit->parent) > HP_PROTO_MAX_NAME)
            return hp_errf(err, errlen, HP_EPROTO, "SUBMIT: parent longer than %u bytes",
                           HP_PROTO_MAX_NAME);
        return 0;
    case HPSEARCH__ENVELOPE__BODY_QUERY:
        if (!e->query->sql || !*e->query->sql)
            return hp_errf(err, errlen, HP_EPROTO, "QUERY: sql is empty");
        return 0;
    case HPSEARCH__ENVELOPE__BODY_CANCEL_STUDY:
        return check_name(e->cancel_study->study, "CANCEL_STUDY: study", err, errlen);
    case HPSEARCH__ENVELOPE__BODY_ENQUEUE:
        for (size_t i = 0; i < e->enqueue->n_params && rc == 0; i++)
            rc = check_name(e->enqueue->params[i]->name, "ENQUEUE: parameter name", err, errlen);
        if (rc == 0 && e->enqueue->n_params == 0)
            return hp_errf(err, errlen, HP_EPROTO, "ENQUEUE: no parameters");
        return rc < 0 ? rc : check_name(e->enqueue->study, "ENQUEUE: study", err, errlen);
    case HPSEARCH__ENVELOPE__BODY_RESUME_STUDY:
        return check_name(e->resume_study->study, "RESUME: study", err, errlen);
    case HPSEARCH__ENVELOPE__BODY_ASK:
        return check_name(e->ask->study, "ASK: study", err, errlen);
    case HPSEARCH__ENVELOPE__BODY_TELL:
        if (e->tell->outcome != HPSEARCH__TRIAL_OUTCOME__COMPLETED &&
            e->tell->outcome != HPSEARCH__TRIAL_OUTCOME__FAILED &&
            e->tell->outcome != HPSEARCH__TRIAL_OUTCOME__PRUNED)
            return hp_errf(err, errlen, HP_EPROTO,
                           "TELL: outcome must be COMPLETED, FAILED or PRUNED");
        if ((rc = check_metrics(e->tell->metrics, e->tell->n_metrics, "TELL: metric name", err,
                                errlen)) < 0)
            return rc;
        for (size_t i = 0; i < e->tell->n_steps && rc == 0; i++)
            rc = check_metrics(e->tell->steps[i]->metrics, e->tell->steps[i]->n_metrics,
                               "TELL: metric name", err, errlen);
        return rc < 0 ? rc : check_name(e->tell->study, "TELL: study", err, errlen);
    case HPSEARCH__ENVELOPE__BODY_LOG_EVENT:
        if ((rc = check_name(e->log_event->kind, "LOG_EVENT: kind", err, errlen)) < 0)
            return rc;
        return check_name(e->log_event->study, "LOG_EVENT: study", err, errlen);
    case HPSEARCH__ENVELOPE__BODY_STATUS_REQUEST:
        if (e->status_request->study && strlen(e->status_request->study) > HP_PROTO_MAX_NAME)
            return hp_errf(err, errlen, HP_EPROTO, "STATUS: study name too long");
        return 0;
    default:
        return 0;
    }
}

int hp_proto_decode(const void *data, size_t len, Hpsearch__Envelope **out, char *err,
                    size_t errlen)
{
    *out = NULL;
    if (len == 0)
        return hp_errf(err, errlen, HP_EPROTO, "empty message");
    if (len > HP_PROTO_MAX_MSG)
        return hp_errf(err, errlen, HP_EPROTO, "message of %zu bytes exceeds the limit of %u",
                       len, HP_PROTO_MAX_MSG);
    Hpsearch__Envelope *e = hpsearch__envelope__unpack(NULL, len, data);
    if (!e)
        return hp_errf(err, errlen, HP_EPROTO,
                       "not a valid hpsearch envelope (protobuf decoding failed)");
    int rc;
    if (e->version != HP_PROTO_VERSION) {
        rc = hp_errf(err, errlen, HP_EVERSION,
                     "protocol version %u is not supported (this side speaks version %u)",
                     e->version, HP_PROTO_VERSION);
        goto fail;
    }
    const type_entry_t *t = find_type(e->type);
    if (!t) {
        rc = hp_errf(err, errlen, HP_EPROTO, "unknown message type %d", (int)e->type);
        goto fail;
    }
    if ((int)e->body_case != t->body_case) {
        rc = hp_errf(err, errlen, HP_EPROTO, "message type %s carries the wrong body (case %d)",
                     t->name, (int)e->body_case);
        goto fail;
    }
    if ((rc = check_message(&e->base, 0, t->name, err, errlen)) < 0)
        goto fail;
    if ((rc = check_body(e, err, errlen)) < 0)
        goto fail;
    *out = e;
    return 0;
fail:
    hpsearch__envelope__free_unpacked(e, NULL);
    return rc;
}

void hp_proto_free(Hpsearch__Envelope *env)
{
    if (env)
        hpsearch__envelope__free_unpacked(env, NULL);
}

/* the code sent for an hp_err without a name of its own */
#define OTHER_ERROR_CODE "ERR"

const char *hp_proto_error_code(int hp_err)
{
    switch (hp_err) {
    case HP_EVERSION: return "EVERSION";
    case HP_EPROTO: return "EPROTO";
    case HP_EAUTH: return "EAUTH";
    case HP_ENOENT: return "ENOENT";
    case HP_EEXIST: return "EEXIST";
    case HP_ESTATE: return "ESTATE";
    case HP_EINVAL: return "EINVAL";
    case HP_EBUSY: return "EBUSY";
    case HP_EREADONLY: return "EREADONLY";
    case HP_EDB: return "EDB";
    case HP_ENOMEM: return "ENOMEM";
    default: return OTHER_ERROR_CODE;
    }
}

int hp_proto_error_from_code(const char *code)
{
    if (!code || strcmp(code, OTHER_ERROR_CODE) == 0)
        return HP_EPROTO;
    /* walking the codes keeps this the exact inverse of the table above */
    for (int e = -1; e > -HP_ERR_COUNT_; e--)
        if (strcmp(code, hp_proto_error_code(e)) == 0)
            return e;
    return HP_EPROTO;
}

void hp_proto_encode_error(hp_buf_t *out, int hp_err, const char *message)
{
    Hpsearch__Envelope env = HPSEARCH__ENVELOPE__INIT;
    Hpsearch__Error body = HPSEARCH__ERROR__INIT;
    body.code = (char *)hp_proto_error_code(hp_err);
    body.message = (char *)(message ? message : hp_strerror(hp_err));
    hp_proto_set_body(&env, HPSEARCH__MSG_TYPE__ERROR, &body);
    int rc = hp_proto_encode(&env, out);
    HP_ASSERT(rc == 0);
}

int hp_proto_token_equal(const ProtobufCBinaryData *got, const char *expected,
                         size_t expected_len)
{
    unsigned char diff = (unsigned char)(got->len != expected_len);
    for (size_t i = 0; i < expected_len; i++) {
        unsigned char g = i < got->len ? got->data[i] : 0;
        diff |= (unsigned char)(g ^ (unsigned char)expected[i]);
    }
    return diff == 0;
}
