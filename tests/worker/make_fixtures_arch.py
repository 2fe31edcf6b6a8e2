#!/usr/bin/python3
"""PyTorch reference values for the later architectures' layers (issue 18):
strided conv, the residual block, the WaveNet-like TCN block, layer norm
and the transformer encoder layer.

    /usr/bin/python3 tests/worker/make_fixtures_arch.py tests/worker/fixtures/torch_arch.txt

As make_fixtures.py: float32 inputs, float64 references, one tensor per
line `name n v0 v1 ...`. A composite layer's parameters (and their
gradients) are packed in the engine's order (worker/nn/layer_arch.h).
"""
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(18)
out = []


def put(name, t):
    t = t.detach().to(torch.float64).reshape(-1)
    out.append("%s %d %s" % (name, t.numel(), " ".join("%.10g" % v for v in t.tolist())))


def f32(t):
    return t.to(torch.float32).to(torch.float64)


def rnd(*shape, scale=1.0):
    return f32(torch.randn(*shape) * scale).requires_grad_(True)


def backward(y, prefix):
    R = f32(torch.randn(*y.shape))
    put(prefix + ".R", R)
    (y * R).sum().backward()


def pack(ts):
    return torch.cat([t.reshape(-1) for t in ts])


# strided conv without bias: (B, C, H, W, K, k, stride, pad)
B, C, H, W, K, k, s, p = 2, 3, 7, 6, 4, 3, 2, 1
x, w = rnd(B, C, H, W), rnd(K, C, k, k)
y = F.conv2d(x, w, stride=s, padding=p)
for n, t in (("x", x), ("w", w), ("out", y)):
    put("convs." + n, t)
backward(y, "convs")
put("convs.dx", x.grad)
put("convs.dw", w.grad)


class Block(nn.Module):
    def __init__(self, C, K, s):
        super().__init__()
        self.c1 = nn.Conv2d(C, K, 3, s, 1, bias=False)
        self.b1 = nn.BatchNorm2d(K)
        self.c2 = nn.Conv2d(K, K, 3, 1, 1, bias=False)
        self.b2 = nn.BatchNorm2d(K)
        self.proj = C != K or s != 1
        if self.proj:
            self.cp = nn.Conv2d(C, K, 1, s, 0, bias=False)
            self.bp = nn.BatchNorm2d(K)

    def forward(self, x):
        h = F.relu(self.b1(self.c1(x)))
        h = self.b2(self.c2(h))
        return F.relu(h + (self.bp(self.cp(x)) if self.proj else x))

    def params(self):
        ps = [self.c1.weight, self.b1.weight, self.b1.bias, self.c2.weight, self.b2.weight,
              self.b2.bias]
        if self.proj:
            ps += [self.cp.weight, self.bp.weight, self.bp.bias]
        return ps

    def bufs(self):
        bs = [self.b1, self.b2] + ([self.bp] if self.proj else [])
        return torch.cat([torch.cat([b.running_mean, b.running_var]) for b in bs])


# res_big: 20x20, where the engine's stride-1 convolutions take conv2d's path
for tag, (B, C, H, W, K, s) in (("res_id", (3, 3, 5, 5, 3, 1)), ("res_proj", (3, 2, 7, 6, 4, 2)),
                                ("res_big", (2, 3, 20, 20, 3, 1))):
    blk = Block(C, K, s).double().train()
    with torch.no_grad():
        for prm in blk.params():
            prm.copy_(f32(torch.randn(*prm.shape) * 0.5 + (1.0 if prm.dim() == 1 else 0.0)))
    x = rnd(B, C, H, W)
    y = blk(x)
    put(tag + ".x", x)
    put(tag + ".p", pack(blk.params()))
    put(tag + ".out", y)
    put(tag + ".bufs", blk.bufs())
    backward(y, tag)
    put(tag + ".dx", x.grad)
    put(tag + ".dp", pack([prm.grad for prm in blk.params()]))

# WaveNet-like TCN block: (B, T, D), kernel k, dilation d
B, T, D, k, dil = 2, 7, 3, 3, 2
x = rnd(B, T, D)
wc, bc, wr, br = rnd(2 * D, D, k, scale=0.5), rnd(2 * D), rnd(D, D, scale=0.5), rnd(D)
z = F.conv1d(F.pad(x.transpose(1, 2), ((k - 1) * dil, 0)), wc, bc, dilation=dil).transpose(1, 2)
g = torch.tanh(z[..., :D]) * torch.sigmoid(z[..., D:])
y = x + F.linear(g, wr, br)
put("tcn.x", x)
put("tcn.p", pack([wc.permute(0, 2, 1), bc, wr, br]))
put("tcn.out", y)
backward(y, "tcn")
put("tcn.dx", x.grad)
put("tcn.dp", pack([wc.grad.permute(0, 2, 1), bc.grad, wr.grad, br.grad]))

# layer norm over the last dimension: (N, D)
x, ga, be = rnd(5, 6, scale=2.0), rnd(6), rnd(6)
y = F.layer_norm(x, (6,), ga, be, eps=1e-5)
for n, t in (("x", x), ("gamma", ga), ("beta", be), ("out", y)):
    put("ln." + n, t)
backward(y, "ln")
for n, t in (("dx", x), ("dgamma", ga), ("dbeta", be)):
    put("ln." + n, t.grad)

# transformer encoder layer: (B, T, D), H heads, feed-forward F
def encoder(tag, B, T, D, H, FF, scale):
    enc = nn.TransformerEncoderLayer(D, H, FF, dropout=0.0, batch_first=True).double().train()
    ps = [enc.self_attn.in_proj_weight, enc.self_attn.in_proj_bias, enc.self_attn.out_proj.weight,
          enc.self_attn.out_proj.bias, enc.norm1.weight, enc.norm1.bias, enc.linear1.weight,
          enc.linear1.bias, enc.linear2.weight, enc.linear2.bias, enc.norm2.weight, enc.norm2.bias]
    with torch.no_grad():
        for prm in ps:
            prm.copy_(f32(torch.randn(*prm.shape) * scale + (1.0 if prm is enc.norm1.weight or
                                                             prm is enc.norm2.weight else 0.0)))
    x = rnd(B, T, D)
    y = enc(x)
    put(tag + ".x", x)
    put(tag + ".p", pack(ps))
    put(tag + ".out", y)
    backward(y, tag)
    put(tag + ".dx", x.grad)
    put(tag + ".dp", pack([prm.grad for prm in ps]))


encoder("attn", 2, 5, 8, 2, 12, 0.4)
# heads of 16 over 11 steps: the attention products' full vector tiles,
# transposes and ragged edges (hp_nn_gemm_small)
encoder("attn16", 2, 11, 32, 2, 12, 0.15)

with open(sys.argv[1], "w") as f:
    f.write("# generated by tests/worker/make_fixtures_arch.py with torch %s; do not edit\n"
            % torch.__version__)
    f.write("\n".join(out) + "\n")
