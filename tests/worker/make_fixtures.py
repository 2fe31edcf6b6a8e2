#!/usr/bin/python3
"""Generate PyTorch reference values for the engine's layers (issue 3).

Run once, with the system Python that has torch (python3-torch 1.13):

    /usr/bin/python3 tests/worker/make_fixtures.py tests/worker/fixtures/torch_ref.txt

Inputs are drawn as float32 and the references computed in float64, so
the C test (test_nn_torch.c) compares its float32 results against the
exact answer with a float32-sized tolerance. Each tensor is one line:
`name n v0 v1 ...`. Layouts match the engine: weights (out, in), conv
NCHW, LSTM time-major with PyTorch's gate order (i, f, g, o).
"""
import sys

import torch
import torch.nn.functional as F

torch.manual_seed(1234)
out = []


def put(name, t):
    t = t.detach().to(torch.float64).reshape(-1)
    out.append("%s %d %s" % (name, t.numel(), " ".join("%.10g" % v for v in t.tolist())))


def rnd(*shape, scale=1.0):
    # float32-representable inputs, promoted to float64 for the reference
    x = (torch.randn(*shape) * scale).to(torch.float32).to(torch.float64)
    return x.requires_grad_(True)


def backward(y, prefix):
    R = torch.randn(*y.shape, dtype=torch.float32).to(torch.float64)
    put(prefix + ".R", R)
    (y * R).sum().backward()


# dense: in (3, 5) -> out (3, 4)
x, w, b = rnd(3, 5), rnd(4, 5), rnd(4)
y = F.linear(x, w, b)
for n, t in (("x", x), ("w", w), ("b", b), ("out", y)):
    put("dense." + n, t)
backward(y, "dense")
for n, t in (("dx", x), ("dw", w), ("db", b)):
    put("dense." + n, t.grad)

# activations
x = rnd(24, scale=2.0)
put("act.x", x)
for name, fn in (("relu", F.relu), ("tanh", torch.tanh), ("sigmoid", torch.sigmoid)):
    xx = x.detach().clone().requires_grad_(True)
    y = fn(xx)
    put(name + ".out", y)
    backward(y, name)
    put(name + ".dx", xx.grad)

# conv2d, two shapes: (B, C, H, W, K, k, pad)
for tag, (B, C, H, W, K, k, pad) in (("conv_a", (2, 3, 7, 6, 4, 3, 1)),
                                     ("conv_b", (2, 1, 8, 8, 3, 5, 2))):
    x, w, b = rnd(B, C, H, W), rnd(K, C, k, k), rnd(K)
    y = F.conv2d(x, w, b, padding=pad)
    for n, t in (("x", x), ("w", w), ("b", b), ("out", y)):
        put(tag + "." + n, t)
    backward(y, tag)
    for n, t in (("dx", x), ("dw", w), ("db", b)):
        put(tag + "." + n, t.grad)

# maxpool 2x2 on (2, 3, 6, 5): odd width floors
x = rnd(2, 3, 6, 5)
y = F.max_pool2d(x, 2)
put("pool.x", x)
put("pool.out", y)
backward(y, "pool")
put("pool.dx", x.grad)

# LSTM: T=5, B=3, I=4, H=6, time-major, zero initial state
T, B, I, H = 5, 3, 4, 6
lstm = torch.nn.LSTM(I, H).double()
x = rnd(T, B, I)
y, _ = lstm(x)
put("lstm.x", x)
put("lstm.w_ih", lstm.weight_ih_l0)
put("lstm.w_hh", lstm.weight_hh_l0)
put("lstm.b", lstm.bias_ih_l0 + lstm.bias_hh_l0)
put("lstm.out", y)
backward(y, "lstm")
put("lstm.dx", x.grad)
put("lstm.dw_ih", lstm.weight_ih_l0.grad)
put("lstm.dw_hh", lstm.weight_hh_l0.grad)
put("lstm.db", lstm.bias_ih_l0.grad)

# batch norm, training mode, after a dense layer (6, 4) and a conv (3, 2, 1, 5)
for tag, shape in (("bn1", (6, 4)), ("bn2", (3, 2, 1, 5))):
    C = shape[1]
    bn = torch.nn.BatchNorm1d(C) if len(shape) == 2 else torch.nn.BatchNorm2d(C)
    bn = bn.double()
    with torch.no_grad():
        bn.weight.copy_(torch.randn(C).to(torch.float32).to(torch.float64))
        bn.bias.copy_(torch.randn(C).to(torch.float32).to(torch.float64))
    bn.train()
    x = rnd(*shape, scale=2.0)
    y = bn(x)
    for n, t in (("x", x), ("gamma", bn.weight), ("beta", bn.bias), ("out", y),
                 ("run_mean", bn.running_mean), ("run_var", bn.running_var)):
        put(tag + "." + n, t)
    backward(y, tag)
    for n, t in (("dx", x), ("dgamma", bn.weight), ("dbeta", bn.bias)):
        put(tag + "." + n, t.grad)
    bn.eval()
    put(tag + ".eval_out", bn(x))

# softmax cross-entropy from logits (mean over the batch)
z = rnd(4, 10, scale=3.0)
lab = torch.tensor([3, 0, 9, 5])
loss = F.cross_entropy(z, lab)
put("xent.logits", z)
put("xent.labels", lab)
put("xent.loss", loss.reshape(1))
loss.backward()
put("xent.dlogits", z.grad)

# MSE (mean)
p, t = rnd(6), rnd(6).detach()
loss = F.mse_loss(p, t)
put("mse.pred", p)
put("mse.target", t)
put("mse.loss", loss.reshape(1))
loss.backward()
put("mse.dpred", p.grad)

# optimizers: three steps on fixed gradients
p0 = torch.randn(5).to(torch.float32).to(torch.float64)
grads = [torch.randn(5).to(torch.float32).to(torch.float64) for _ in range(3)]
put("opt.p0", p0)
for i, g in enumerate(grads):
    put("opt.g%d" % i, g)
for tag, make in (
        ("adam", lambda q: torch.optim.Adam([q], lr=0.01)),
        ("adam_l2", lambda q: torch.optim.Adam([q], lr=0.01, weight_decay=0.1)),
        ("adamw", lambda q: torch.optim.AdamW([q], lr=0.01, weight_decay=0.1)),
        ("sgd_l2", lambda q: torch.optim.SGD([q], lr=0.1, weight_decay=0.1)),
        ("momentum", lambda q: torch.optim.SGD([q], lr=0.1, momentum=0.9))):
    q = p0.clone().requires_grad_(True)
    opt = make(q)
    for g in grads:
        q.grad = g.clone()
        opt.step()
    put("opt." + tag, q)

# a wider LSTM (issue 19): H = 11 is one full 8-lane vector and a 3-lane
# tail in the engine's cell passes, with inputs large enough to saturate
# some gates. Its own seed, and the global generator's state restored, so
# the cases above and below keep their values.
state = torch.get_rng_state()
torch.manual_seed(19)
T, B, I, H = 6, 3, 5, 11
lstm = torch.nn.LSTM(I, H).double()
with torch.no_grad():
    for w in lstm.parameters():
        w.copy_((torch.randn(w.shape) * 0.6).to(torch.float32).to(torch.float64))
x = rnd(T, B, I, scale=2.0)
y, _ = lstm(x)
put("lstm2.x", x)
put("lstm2.w_ih", lstm.weight_ih_l0)
put("lstm2.w_hh", lstm.weight_hh_l0)
put("lstm2.b", lstm.bias_ih_l0 + lstm.bias_hh_l0)
put("lstm2.out", y)
backward(y, "lstm2")
put("lstm2.dx", x.grad)
put("lstm2.dw_ih", lstm.weight_ih_l0.grad)
put("lstm2.dw_hh", lstm.weight_hh_l0.grad)
put("lstm2.db", lstm.bias_ih_l0.grad)
torch.set_rng_state(state)

with open(sys.argv[1], "w") as f:
    f.write("# generated by tests/worker/make_fixtures.py with torch %s; do not edit\n"
            % torch.__version__)
    f.write("\n".join(out) + "\n")
