/* Single-quoted YAML strings that the linked libfyaml misreads.
 *
 * libfyaml 0.7 (Debian 12's) formats a single-quoted scalar wrongly when
 * two '' escapes are adjacent: 'a''''b' reads as a''' instead of a''b,
 * and from four in a row on it also leaks the iterator's chunk array
 * (upstream pantoniou/libfyaml#233, fixed after 0.7). Any call that
 * formats such a scalar (fy_node_get_scalar, the emitter) is affected, so
 * a document must be checked after parsing and before any value is read.
 *
 *     int line, col;
 *     if (hp_yaml_misread_quote(fy_document_root(doc), text, len, &line, &col))
 *         ... refuse the document, naming line:col ...
 *
 * The library is probed once (with a string that shows the bug without
 * triggering the leak); on a libfyaml that reads it right, nothing is
 * refused. */
#ifndef HP_YAML_QUOTES_H
#define HP_YAML_QUOTES_H

#include <stddef.h>

struct fy_node;

/* the message the callers print after "line L, column C: " */
#define HP_YAML_QUOTE_MSG                                                                    \
    "a single-quoted string with two escaped quotes in a row ('''') is misread by this "     \
    "build's YAML library (libfyaml 0.7); write the string in double quotes instead"

/* hp_yaml_misread_quote returns 1 and the 1-based line and column of the
 * first single-quoted key or value under root (root included) that the
 * library would misread, 0 when there is none. text and len are what the
 * document was parsed from (its marks are offsets into it); no scalar is
 * formatted. */
int hp_yaml_misread_quote(struct fy_node *root, const char *text, size_t len, int *line,
                          int *col);

#endif
