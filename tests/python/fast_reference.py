#!/usr/bin/env python3
"""Journey's model as a PyTorch user would write it for speed: the baseline of bench/gpu_bench.sh.

Speed only: tests/python/reference_model.py stays the correctness anchor (it follows Journey's
arithmetic step by step; this file follows PyTorch's idioms). The model and the parameter
shapes are reference_model.py's: a LLaMA-2 style decoder with RMSNorm (eps 1e-5), RoPE with
the half-split rotation (base 10000), causal attention WITHOUT the 1/sqrt(d_head) logit scale
(F.scaled_dot_product_attention(..., is_causal=True, scale=1.0)), a SwiGLU MLP of width 4 d,
an untied LM head, no biases and mean cross-entropy. The initialisation is a plain normal
(shapes match; values do not matter for speed).

A step: forward and backward (under torch.autocast in bfloat16 with --precision bf16; the
weights, gradients and optimizer state stay float32, as in Journey), clip_grad_norm_(1.0),
torch.optim.AdamW(betas (0.9, 0.95), eps 1e-8, weight decay 0.1, fused where the device
supports it, else foreach), zero_grad, and a multiply of every prunable weight (every attention
and MLP matrix and the LM head) by a fixed bool mask of about 50 % density, so the work matches
a sparse run's.

  fast_reference.py --size DxLxH --seq-len S --vocab V --batch-tokens B --steps T
                    [--device cpu|cuda] [--precision fp32|bf16] [--compile] [--threads K]

Random tokens; 3 warm-up steps (6 with --compile: compilation stays outside the timing), then
T timed steps between two device synchronisations. Prints a notes line starting with "# "
(torch version, the AdamW implementation, compile time) and then one result line:

  reference DxLxH seq S, B tokens/step, DEVICE PRECISION, eager|compile: step X.XX ms,
  N tokens/s, MFU M.M% of a measured P.P TFLOP/s, peak memory G.GG GiB

(on one line). MFU = (6 P + 12 L d s) B / step time / the best of several timed n x n x n
matmuls of random data in the step's dtype in this process (n = 8192 on cuda, 1024 on cpu),
P = matmul parameters (attention and MLP matrices and the LM head), L layers, d width, s
sequence length, B tokens per step: the formula of Journey's worker_bench. Peak memory is
torch.cuda.max_memory_allocated() over the model, the optimizer and the steps (0 on cpu).
Out of memory prints the line's prefix followed by ": out of memory" and exits 0; any other
failure (for example --compile without a working inductor toolchain) prints the prefix
followed by ": failed: REASON" and exits 1.
"""
import argparse
import math
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class Block(nn.Module):
    def __init__(self, d, heads, ffn, eps):
        super().__init__()
        self.heads = heads
        self.attn_norm = nn.RMSNorm(d, eps=eps)
        self.wq = nn.Linear(d, d, bias=False)
        self.wk = nn.Linear(d, d, bias=False)
        self.wv = nn.Linear(d, d, bias=False)
        self.wo = nn.Linear(d, d, bias=False)
        self.mlp_norm = nn.RMSNorm(d, eps=eps)
        self.w_gate = nn.Linear(d, ffn, bias=False)
        self.w_up = nn.Linear(d, ffn, bias=False)
        self.w_down = nn.Linear(ffn, d, bias=False)

    @staticmethod
    def rope(x, cos, sin):
        half = x.shape[-1] // 2
        x1, x2 = x[..., :half], x[..., half:]
        return torch.cat([x1 * cos - x2 * sin, x2 * cos + x1 * sin], dim=-1)

    def forward(self, x, cos, sin):
        b, s, d = x.shape
        heads = lambda t: t.view(b, s, self.heads, d // self.heads).transpose(1, 2)
        h = self.attn_norm(x)
        q = heads(self.wq(h))
        k = heads(self.wk(h))
        v = heads(self.wv(h))
        cos, sin = cos.to(q.dtype), sin.to(q.dtype)
        q, k = self.rope(q, cos, sin), self.rope(k, cos, sin)
        a = F.scaled_dot_product_attention(q, k, v, is_causal=True, scale=1.0)  # No 1/sqrt(dh).
        x = x + self.wo(a.transpose(1, 2).reshape(b, s, d))
        h = self.mlp_norm(x)
        return x + self.w_down(F.silu(self.w_gate(h)) * self.w_up(h))


class Model(nn.Module):
    def __init__(self, d, layers, heads, seq_len, vocab, rope_base=10000.0, eps=1e-5):
        super().__init__()
        ffn = 4 * d  # reference_model.py's Config: ffn_dim 0 means 4 d_model.
        head_dim = d // heads
        self.embed = nn.Embedding(vocab, d)
        self.layers = nn.ModuleList(Block(d, heads, ffn, eps) for _ in range(layers))
        self.final_norm = nn.RMSNorm(d, eps=eps)
        self.head = nn.Linear(d, vocab, bias=False)
        half = head_dim // 2
        inv_freq = rope_base ** (-2.0 * torch.arange(half, dtype=torch.float64) / head_dim)
        angle = torch.outer(torch.arange(seq_len, dtype=torch.float64), inv_freq)
        self.register_buffer("cos", torch.cos(angle).float(), persistent=False)
        self.register_buffer("sin", torch.sin(angle).float(), persistent=False)
        for p in self.parameters():
            if p.dim() == 2:
                nn.init.normal_(p, std=1 / math.sqrt(p.shape[1]))

    def prunable(self):
        """The matmul weights: every Linear's (attention, MLP, LM head), not the embedding."""
        return [m.weight for m in self.modules() if isinstance(m, nn.Linear)]

    def forward(self, inputs, targets):
        s = inputs.shape[1]
        cos, sin = self.cos[:s], self.sin[:s]
        x = self.embed(inputs)
        for layer in self.layers:
            x = layer(x, cos, sin)
        logits = self.head(self.final_norm(x))
        return F.cross_entropy(logits.reshape(-1, logits.shape[-1]).float(), targets.reshape(-1))


def synchronize(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def matmul_peak_flops(device, dtype):
    """FLOP/s of an n x n x n matmul of random data, best of repetitions over about 0.3 s
    (n = 8192 on a GPU, 1024 on the CPU), as worker/matmul_peak.cpp measures it."""
    n, repeats = (1024, 1) if device.type == "cpu" else (8192, 10)
    a = torch.randn(n, n, device=device, dtype=dtype)
    b = torch.randn(n, n, device=device, dtype=dtype)
    c = torch.empty(n, n, device=device, dtype=dtype)
    torch.mm(a, b, out=c)
    synchronize(device)
    best, start = 0.0, time.perf_counter()
    while time.perf_counter() - start < 0.3:
        t0 = time.perf_counter()
        for _ in range(repeats):
            torch.mm(a, b, out=c)
        synchronize(device)
        best = max(best, 2.0 * n ** 3 * repeats / (time.perf_counter() - t0))
    return best


def make_optimizer(params, device):
    """AdamW, fused where this build supports it on `device`, else foreach."""
    kwargs = dict(lr=1e-3, betas=(0.9, 0.95), eps=1e-8, weight_decay=0.1)
    try:
        return torch.optim.AdamW(params, fused=True, **kwargs), "fused"
    except (RuntimeError, ValueError, TypeError):
        return torch.optim.AdamW(params, foreach=True, **kwargs), "foreach"


def is_out_of_memory(e):
    oom = getattr(torch, "OutOfMemoryError", torch.cuda.OutOfMemoryError)
    return isinstance(e, oom) or "out of memory" in str(e).lower()


def reason(e):
    lines = [l.strip() for l in str(e).strip().splitlines() if l.strip()]
    text = "%s: %s" % (type(e).__name__, lines[0] if lines else "")
    return text if len(text) <= 300 else text[:297] + "..."


def run(args, device, prefix, notes):
    d, layers, heads = (int(v) for v in args.size.split("x"))
    if d % heads or (d // heads) % 2:
        raise ValueError("--size: d_model must split into heads of even width")
    if args.batch_tokens % args.seq_len:
        raise ValueError("--batch-tokens must be a multiple of --seq-len")
    dtype = torch.bfloat16 if args.precision == "bf16" else torch.float32
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)

    torch.manual_seed(0)
    model = Model(d, layers, heads, args.seq_len, args.vocab).to(device)
    params = list(model.parameters())
    prunable = model.prunable()
    n_matmul = sum(p.numel() for p in prunable)
    masks = [torch.rand(p.shape, device=device) < 0.5 for p in prunable]
    with torch.no_grad():
        for p, m in zip(prunable, masks):
            p.mul_(m)
    opt, kind = make_optimizer(params, device)
    notes.append("AdamW " + kind)
    loss_fn = model
    if args.compile:
        loss_fn = torch.compile(model)

    def step(inputs, targets):
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=dtype == torch.bfloat16):
            loss = loss_fn(inputs, targets)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)
        with torch.no_grad():
            for p, m in zip(prunable, masks):
                p.mul_(m)
        return loss

    warmup = 6 if args.compile else 3
    rows = args.batch_tokens // args.seq_len
    gen = torch.Generator(device=device).manual_seed(1)
    tokens = torch.randint(args.vocab, (warmup + args.steps, rows, args.seq_len + 1),
                           generator=gen, device=device)
    t0 = time.perf_counter()
    for t in range(warmup):
        loss = step(tokens[t, :, :-1], tokens[t, :, 1:])
    if not math.isfinite(loss.item()):
        raise RuntimeError("warm-up loss is %s" % loss.item())
    if args.compile:
        notes.append("compile + %d warm-up steps %.1f s" % (warmup, time.perf_counter() - t0))

    synchronize(device)
    t0 = time.perf_counter()
    for t in range(warmup, warmup + args.steps):
        step(tokens[t, :, :-1], tokens[t, :, 1:])
    synchronize(device)
    step_s = (time.perf_counter() - t0) / args.steps
    peak_mem = torch.cuda.max_memory_allocated(device) / 2 ** 30 if device.type == "cuda" else 0.0

    del tokens, opt, masks, params, prunable, loss_fn, model
    if device.type == "cuda":
        torch.cuda.empty_cache()
    peak = matmul_peak_flops(device, dtype)
    flops = (6.0 * n_matmul + 12.0 * layers * d * args.seq_len) * args.batch_tokens
    print("# fast_reference: " + ", ".join(notes))
    print("%s: step %.2f ms, %.0f tokens/s, MFU %.1f%% of a measured %.1f TFLOP/s, "
          "peak memory %.2f GiB" % (prefix, 1e3 * step_s, args.batch_tokens / step_s,
                                    100.0 * flops / step_s / peak, peak / 1e12, peak_mem))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", required=True, help="DxLxH: width, layers, heads")
    parser.add_argument("--seq-len", type=int, required=True)
    parser.add_argument("--vocab", type=int, required=True)
    parser.add_argument("--batch-tokens", type=int, required=True)
    parser.add_argument("--steps", type=int, required=True)
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    parser.add_argument("--precision", choices=["fp32", "bf16"], default="fp32")
    parser.add_argument("--compile", action="store_true", help="torch.compile the model")
    parser.add_argument("--threads", type=int, default=0, help="intra-op threads (0: default)")
    args = parser.parse_args()
    if args.steps < 1:
        parser.error("--steps must be at least 1")
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    notes = ["torch " + torch.__version__, "%d threads" % torch.get_num_threads()]
    prefix = "reference %s seq %d, %d tokens/step, %s %s, %s" % (
        args.size, args.seq_len, args.batch_tokens, device.type, args.precision,
        "compile" if args.compile else "eager")
    try:
        if device.type == "cuda" and not torch.cuda.is_available():
            raise RuntimeError("this torch (%s) sees no CUDA device" % torch.__version__)
        run(args, device, prefix, notes)
    except Exception as e:  # One line for the benchmark table, not a traceback.
        if is_out_of_memory(e):
            print("%s: out of memory" % prefix)
            return 0
        print("# fast_reference: " + ", ".join(notes))
        print("%s: failed: %s" % (prefix, reason(e)))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
