#!/usr/bin/python3
"""PyTorch side of the engine benchmark (tests/bench/engine_bench.py).

Trains the same architecture as `hpworker train` on the same Fashion-MNIST
.gz files with the same recipe: standardized inputs (training-split
statistics), 10% held out for validation, batch 128, Adam lr 3e-4, He
normal init for relu layers (Glorot normal for the output), zero biases,
one thread; the LSTM as hpworker initializes it (Glorot normal, forget-gate
bias 1). Prints the same `name=value` lines as hpworker.

    /usr/bin/python3 engine_torch.py --model mlp --epochs 5 --seed 1
"""
import argparse
import contextlib
import gzip
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

DIR = "/usr/share/datasets/fashion-mnist"


def idx(path, n_hdr):
    with gzip.open(path, "rb") as f:
        b = f.read()
    return np.frombuffer(b, dtype=np.uint8, offset=n_hdr)


class LSTMNet(nn.Module):
    def __init__(self, hidden):
        super().__init__()
        self.lstm = nn.LSTM(28, hidden, batch_first=True)
        self.out = nn.Linear(hidden, 10)

    def forward(self, x):
        h, _ = self.lstm(x.view(-1, 28, 28))
        return self.out(h[:, -1])


class Block(nn.Module):
    """ResNet basic block, as worker/nn/resblock.c"""

    def __init__(self, c, k, s):
        super().__init__()
        self.c1, self.b1 = nn.Conv2d(c, k, 3, s, 1, bias=False), nn.BatchNorm2d(k)
        self.c2, self.b2 = nn.Conv2d(k, k, 3, 1, 1, bias=False), nn.BatchNorm2d(k)
        self.proj = None
        if c != k or s != 1:
            self.proj = nn.Sequential(nn.Conv2d(c, k, 1, s, bias=False), nn.BatchNorm2d(k))

    def forward(self, x):
        h = self.b2(self.c2(F.relu(self.b1(self.c1(x)))))
        return F.relu(h + (self.proj(x) if self.proj is not None else x))


def resnet(ch=16, blocks=2, stages=3):
    mods = [nn.Conv2d(1, ch, 3, padding=1), nn.BatchNorm2d(ch), nn.ReLU()]
    c = ch
    for s in range(stages):
        for b in range(blocks):
            mods.append(Block(c, ch << s, 2 if s > 0 and b == 0 else 1))
            c = ch << s
    mods += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(c, 10)]
    return nn.Sequential(*mods)


class TCN(nn.Module):
    """WaveNet-like causal dilated gated blocks, as worker/nn/tcn.c"""

    def __init__(self, ch=64, blocks=4, k=3):
        super().__init__()
        self.inp = nn.Linear(28, ch)
        self.k = k
        self.convs = nn.ModuleList(nn.Conv1d(ch, 2 * ch, k, dilation=2 ** i) for i in range(blocks))
        self.res = nn.ModuleList(nn.Conv1d(ch, ch, 1) for _ in range(blocks))
        self.out = nn.Linear(ch, 10)

    def forward(self, x):
        h = self.inp(x.view(-1, 28, 28)).transpose(1, 2)  # (B, ch, T)
        for i, (cv, rs) in enumerate(zip(self.convs, self.res)):
            z = cv(F.pad(h, ((self.k - 1) * 2 ** i, 0)))
            a, b = z.chunk(2, dim=1)
            h = h + rs(torch.tanh(a) * torch.sigmoid(b))
        return self.out(h[:, :, -1])


class Attn(nn.Module):
    """positions + post-norm encoder layers + mean pool, as worker/nn/attention.c"""

    def __init__(self, ch=64, heads=4, blocks=2, ffn=128):
        super().__init__()
        self.inp = nn.Linear(28, ch)
        t = torch.arange(28, dtype=torch.float64)[:, None]
        i = torch.arange(0, ch, 2, dtype=torch.float64)
        pe = torch.zeros(28, ch, dtype=torch.float64)
        pe[:, 0::2] = torch.sin(t / 10000 ** (i / ch))
        pe[:, 1::2] = torch.cos(t / 10000 ** (i / ch))
        self.register_buffer("pe", pe.float())
        self.enc = nn.ModuleList(nn.TransformerEncoderLayer(ch, heads, ffn, dropout=0.0,
                                                            batch_first=True)
                                 for _ in range(blocks))
        self.out = nn.Linear(ch, 10)

    def forward(self, x):
        h = self.inp(x.view(-1, 28, 28)) + self.pe
        for e in self.enc:
            h = e(h)
        return self.out(h.mean(1))


def train_flops(net, x):
    """FLOPs of the matrix products and convolutions in one training step
    of net on batch x: forward, then backward as the weight gradients plus
    the input gradients wherever an input needs one (the first layer's,
    the raw batch's, does not). Multiply-adds of the layers as written, so
    direct convolution (a Winograd or FFT kernel would need fewer); the
    elementwise work (activations, batch norm, softmax, the optimizer) is
    left out, so this is a lower bound on the work and the time it gives
    at the sgemm peak a lower bound on any step's time."""
    total = [0]

    def count(fwd, din):
        """fwd: the layer's forward FLOPs; din: those of the backward's
        products that only the input's gradient needs (a Linear's all of
        its dX, an LSTM's only the x part: its recurrent dh is always
        computed). Forward, weight gradients and input-side gradients are
        each fwd; an input that needs no gradient skips din of them."""
        def hook(mod, inp, out):
            total[0] += 3 * fwd(mod, inp[0], out)
            if not inp[0].requires_grad:
                total[0] -= din(mod, inp[0], out)
        return hook

    def linear(m, i, o):
        return 2 * o.numel() * m.in_features

    def conv(m, i, o):
        k = 1
        for d in m.kernel_size:
            k *= d
        return 2 * o.numel() * (m.in_channels // m.groups) * k

    def lstm(m, i, o):
        B, T, I = i.shape if m.batch_first else (i.shape[1], i.shape[0], i.shape[2])
        return 2 * B * T * 4 * m.hidden_size * (I + m.hidden_size)

    def lstm_din(m, i, o):
        B, T, I = i.shape if m.batch_first else (i.shape[1], i.shape[0], i.shape[2])
        return 2 * B * T * 4 * m.hidden_size * I

    def mha(m, i, o):
        B, T, C = i.shape if m.batch_first else (i.shape[1], i.shape[0], i.shape[2])
        # in-projection (3 C), Q K^T and P V, out-projection (a Linear
        # module, but called functionally: its hook would not fire)
        return 2 * B * T * C * 3 * C + 2 * 2 * B * T * T * C + 2 * B * T * C * C

    hooks = []
    for m in net.modules():
        if isinstance(m, nn.Linear) and not isinstance(m, nn.modules.linear.NonDynamicallyQuantizableLinear):
            hooks.append(m.register_forward_hook(count(linear, linear)))
        elif isinstance(m, (nn.Conv1d, nn.Conv2d)):
            hooks.append(m.register_forward_hook(count(conv, conv)))
        elif isinstance(m, nn.LSTM):
            hooks.append(m.register_forward_hook(count(lstm, lstm_din)))
        elif isinstance(m, nn.MultiheadAttention):
            hooks.append(m.register_forward_hook(count(mha, mha)))
    net(x)
    for h in hooks:
        h.remove()
    return total[0]


def build(model, hidden):
    if model == "resnet":
        return resnet()
    if model == "tcn":
        return TCN()
    if model == "attention":
        return Attn()
    if model == "mlp":
        net = nn.Sequential(nn.Flatten(), nn.Linear(784, hidden), nn.ReLU(), nn.Linear(hidden, 10))
    elif model == "lenet":
        net = nn.Sequential(
            nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
            nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10))
    else:
        # hpworker's LSTM init, not PyTorch's default uniform: Glorot normal
        # per gate matrix (fan_in I or H, fan_out H), zero biases but the
        # forget gate's 1 (hpworker has one bias, PyTorch two: b_ih gets it)
        net = LSTMNet(hidden)
        H, I = hidden, net.lstm.input_size
        nn.init.normal_(net.lstm.weight_ih_l0, std=(2.0 / (I + H)) ** 0.5)
        nn.init.normal_(net.lstm.weight_hh_l0, std=(2.0 / (H + H)) ** 0.5)
        with torch.no_grad():
            net.lstm.bias_ih_l0.zero_()
            net.lstm.bias_hh_l0.zero_()
            net.lstm.bias_ih_l0[H:2 * H] = 1.0
        nn.init.xavier_normal_(net.out.weight)
        nn.init.zeros_(net.out.bias)
        return net
    mods = [m for m in net.modules() if isinstance(m, (nn.Linear, nn.Conv2d))]
    for i, m in enumerate(mods):
        if i == len(mods) - 1:
            nn.init.xavier_normal_(m.weight)
        else:
            nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
        nn.init.zeros_(m.bias)
    return net


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="mlp")
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--hidden", type=int, default=0)
    ap.add_argument("--train-size", type=int, default=0)
    ap.add_argument("--batch", type=int, default=128)
    # bf16 autocast (mixed precision: bf16 products, fp32 weights), the
    # like-for-like peer of hpworker's precision=bf16
    ap.add_argument("--bf16", action="store_true")
    a = ap.parse_args()
    amp = ((lambda: torch.autocast("cpu", dtype=torch.bfloat16)) if a.bf16
           else contextlib.nullcontext)
    torch.set_num_threads(1)
    torch.manual_seed(a.seed)
    rng = np.random.default_rng(a.seed)
    xtr = idx(DIR + "/train-images-idx3-ubyte.gz", 16).reshape(-1, 784)
    ytr = idx(DIR + "/train-labels-idx1-ubyte.gz", 8).astype(np.int64)
    xte = idx(DIR + "/t10k-images-idx3-ubyte.gz", 16).reshape(-1, 784)
    yte = idx(DIR + "/t10k-labels-idx1-ubyte.gz", 8).astype(np.int64)
    perm = rng.permutation(len(xtr))
    nval = len(xtr) // 10
    val, tr = perm[:nval], perm[nval:]
    if a.train_size:
        tr = tr[:a.train_size]
    mu = xtr[tr].mean(dtype=np.float64)
    sd = xtr[tr].std(dtype=np.float64)
    # the usual PyTorch recipe: normalize once into float tensors, so the
    # training loop is only indexing + the model (the fastest fair loop)
    def tens(x):
        return ((torch.from_numpy(x.copy()).float() - mu) / sd).view(-1, 1, 28, 28)

    Xtr, Ytr = tens(xtr[tr]), torch.from_numpy(ytr[tr].copy())
    Xva, Yva = tens(xtr[val]), torch.from_numpy(ytr[val].copy())
    Xte, Yte = tens(xte), torch.from_numpy(yte.copy())

    def prep(xb):
        return xb

    hidden = a.hidden or (256 if a.model == "mlp" else 128)
    net = build(a.model, hidden)
    opt = torch.optim.Adam(net.parameters(), lr=3e-4)

    def evaluate(X, Y):
        net.eval()
        tot, corr = 0.0, 0
        with torch.no_grad():
            # evaluation stays fp32 (it is not timed; and the transformer
            # encoder's inference fast path refuses autocast's bf16 in 1.13)
            for i in range(0, len(X), 1000):
                z = net(prep(X[i:i + 1000]))
                tot += F.cross_entropy(z, Y[i:i + 1000], reduction="sum").item()
                corr += (z.argmax(1) == Y[i:i + 1000]).sum().item()
        return tot / len(X), 1 - corr / len(X)

    t0 = time.time()
    n = len(Xtr)
    for ep in range(a.epochs):
        net.train()
        order = torch.from_numpy(rng.permutation(n))
        te, ce = time.time(), time.process_time()
        ls, corr = torch.zeros(()), torch.zeros((), dtype=torch.long)
        for i in range(0, n, a.batch):
            bi = order[i:i + a.batch]
            x, y = Xtr[bi], Ytr[bi]
            with amp():
                z = net(x)
                loss = F.cross_entropy(z.float(), y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            with torch.no_grad():  # no .item(): no sync per step
                ls += loss.detach() * len(bi)
                corr += (z.argmax(1) == y).sum()
        dt, dc = time.time() - te, time.process_time() - ce
        ls, corr = ls.item(), corr.item()
        vl, ve = evaluate(Xva, Yva)
        print("epoch=%d/%d train_loss=%.5f train_error=%.4f val_loss=%.5f val_error=%.4f "
              "samples_per_sec=%.0f cpu_samples_per_sec=%.0f seconds=%.2f"
              % (ep + 1, a.epochs, ls / n, 1 - corr / n, vl, ve, n / dt, n / dc, time.time() - t0),
              flush=True)
    tl, terr = evaluate(Xte, Yte)
    print("test_loss=%.5f test_error=%.4f test_accuracy=%.4f seconds=%.2f"
          % (tl, terr, 1 - terr, time.time() - t0))


if __name__ == "__main__":
    main()
