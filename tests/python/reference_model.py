#!/usr/bin/env python3
"""An independent PyTorch implementation of Journey's model, optimiser and pruner.

It is the correctness anchor of the C++ worker (tests/worker_test.cpp compares losses and
gradients against it) and the performance baseline of bench/worker_bench.sh. It imports
nothing from Journey: it reads a Journey HDF5 checkpoint by tensor name with h5py
(docs/checkpoint-format.md) and re-implements, from their documented definitions:

  the model (worker/model.h)    LLaMA-2 style decoder (model.family = llama; parallel wires each
                                block as x + attention(n1(x)) + mlp(n2(x))): RMSNorm (x / sqrt(mean(x^2) + eps) * g),
                                causal multi-head attention WITHOUT the 1/sqrt(d_head) logit
                                scale (MaxText convention), RoPE with the half-split rotation,
                                SwiGLU MLP, untied LM head, mean cross-entropy in nats.
  the optimiser (worker/adamw.h) torch.optim.AdamW (non-foreach) with decoupled weight decay
                                on every parameter, after multiplying each prunable
                                parameter's gradient by its mask and clipping with
                                torch.nn.utils.clip_grad_norm_.
  the pruner (worker/pruner.h)  an event with keep fraction q keeps floor(q n + 1e-9) of the
                                n prunable weights: tau = the (n - kept + 1)-th smallest |w|,
                                weights with |w| < tau die (ties live), masks only shrink, and
                                dead weights and their moments are set to zero.

Commands (all print results to stdout; errors go to stderr with exit status 1):

  parity --checkpoint CKPT --plan PLAN.json --out DIR
      Loads CKPT (weights, masks, moments, adam_steps) and trains the steps PLAN.json lists,
      each {"lr": x, "keep": q or null}, on its batch of b = PLAN["sequences"] rows of
      seq_len + 1 int64 tokens from the file PLAN["batches"] (raw little-endian, one step's
      batch after the other). Writes DIR/result.json
      ({"losses": [...], "kept": [...], "grad_norms": [...]}) and, for each step in
      PLAN["grad_steps"], DIR/grad-<step>-<name>.f32 (raw float32: the gradient of the step's
      loss, before masking and clipping) and, for prunable parameters, DIR/mask-<step>-<name>.u8
      (the mask in force during that step).
  eval --checkpoint CKPT --tokens FILE --count N
      Mean loss (nats per token) of the N sequences of seq_len + 1 int64 tokens in FILE.
  bench --size DxLxH --seq-len S --vocab V --batch-tokens B --steps T --threads K
      The same training loop on random tokens from a random initialisation; prints the median
      and the shortest step time after 3 warm-up steps, the median CPU time of a step, tokens/s
      (median), and the float32 matmul peak of this process (best of 0.3 s).
"""
import argparse
import configparser
import json
import math
import os
import sys
import time

import h5py
import numpy as np
import torch
import torch.nn.functional as F


class Config:
    """The config keys the model, optimiser and pruner need, from a checkpoint's INI text
    (worker/model_spec.h's shapes and initialisation), or defaults and keyword overrides."""

    def __init__(self, ini_text=None, **overrides):
        ini = configparser.ConfigParser()
        if ini_text is not None:
            ini.read_string(ini_text)
        def get(section, key, default, kind):
            if ini.has_option(section, key):
                return kind(ini.get(section, key))
            return default
        self.d_model = overrides.get("d_model", get("model", "d_model", 128, int))
        self.n_layers = overrides.get("n_layers", get("model", "n_layers", 2, int))
        self.n_heads = overrides.get("n_heads", get("model", "n_heads", 4, int))
        ffn = overrides.get("ffn_dim", get("model", "ffn_dim", 0, int))
        self.ffn = ffn if ffn > 0 else 4 * self.d_model
        self.seq_len = overrides.get("seq_len", get("model", "seq_len", 128, int))
        self.rope_base = get("model", "rope_base", 10000.0, float)
        self.norm_eps = get("model", "norm_eps", 1e-5, float)
        # llama: sequential residuals; parallel: attention and MLP both read the block input.
        self.family = get("model", "family", "llama", str)
        self.vocab = overrides.get("vocab", get("data", "vocab_size", 2048, int))
        self.weight_decay = get("train", "weight_decay", 0.1, float)
        self.beta1 = get("train", "beta1", 0.9, float)
        self.beta2 = get("train", "beta2", 0.95, float)
        self.adam_eps = get("train", "adam_eps", 1e-8, float)
        self.clip = get("train", "clip", 1.0, float)
        self.per_layer = get("prune", "scope", "global", str) == "layer"
        self.head_dim = self.d_model // self.n_heads

    def param_shapes(self):
        """(name, shape, prunable, init std) in the checkpoint's names; std 0 means ones."""
        d, f, v = self.d_model, self.ffn, self.vocab
        out = [("embed", (v, d), False, 1 / math.sqrt(d))]
        for i in range(self.n_layers):
            p = "layers.%d." % i
            out += [
                (p + "attn_norm", (d,), False, 0.0),
                (p + "wq", (d, d), True, 1 / math.sqrt(d) / math.sqrt(self.head_dim)),
                (p + "wk", (d, d), True, 1 / math.sqrt(d)),
                (p + "wv", (d, d), True, 1 / math.sqrt(d)),
                (p + "wo", (d, d), True, 1 / math.sqrt(d)),
                (p + "mlp_norm", (d,), False, 0.0),
                (p + "w_gate", (f, d), True, 1 / math.sqrt(d)),
                (p + "w_up", (f, d), True, 1 / math.sqrt(d)),
                (p + "w_down", (d, f), True, 1 / math.sqrt(f)),
            ]
        out += [("final_norm", (d,), False, 0.0), ("head", (v, d), True, 1 / math.sqrt(d))]
        return out


class ReferenceModel:
    """Parameters (leaf tensors by name), masks, and the forward pass."""

    def __init__(self, cfg):
        self.cfg = cfg
        self.names = [n for n, _, _, _ in cfg.param_shapes()]
        self.prunable = [n for n, _, p, _ in cfg.param_shapes() if p]
        self.params = {}
        self.masks = {}
        half = cfg.head_dim // 2
        inv_freq = cfg.rope_base ** (-2.0 * torch.arange(half, dtype=torch.float64) / cfg.head_dim)
        angle = torch.outer(torch.arange(cfg.seq_len, dtype=torch.float64), inv_freq)
        self.cos = torch.cos(angle).float()
        self.sin = torch.sin(angle).float()
        self.causal = torch.triu(torch.full((cfg.seq_len, cfg.seq_len), float("-inf")), 1)

    @staticmethod
    def from_checkpoint(path):
        with h5py.File(path, "r") as f:
            if f.attrs.get("format") != "journey-checkpoint":
                raise ValueError("%s is not a journey checkpoint" % path)
            cfg = Config(f.attrs["config"])
            model = ReferenceModel(cfg)
            moments = {}
            for name, shape, prunable, _ in cfg.param_shapes():
                w = torch.from_numpy(f["params/" + name][()])
                if tuple(w.shape) != shape:
                    raise ValueError("%s: params/%s has shape %s, expected %s"
                                     % (path, name, tuple(w.shape), shape))
                model.params[name] = w.requires_grad_(True)
                if prunable:
                    model.masks[name] = torch.from_numpy(f["masks/" + name][()]).bool()
                moments[name] = (torch.from_numpy(f["optim/exp_avg/" + name][()]),
                                 torch.from_numpy(f["optim/exp_avg_sq/" + name][()]))
            adam_steps = int(f.attrs.get("adam_steps", 0))
        return model, moments, adam_steps

    @staticmethod
    def random(cfg, seed):
        model = ReferenceModel(cfg)
        gen = torch.Generator().manual_seed(seed)
        for name, shape, prunable, std in cfg.param_shapes():
            w = torch.ones(shape) if std == 0.0 else torch.randn(shape, generator=gen) * std
            model.params[name] = w.requires_grad_(True)
            if prunable:
                model.masks[name] = torch.ones(shape, dtype=torch.bool)
        return model

    def rms_norm(self, x, gain):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.cfg.norm_eps) * gain

    def rope(self, x):
        s, half = x.shape[2], x.shape[3] // 2
        cos, sin = self.cos[:s], self.sin[:s]
        x1, x2 = x[..., :half], x[..., half:]
        return torch.cat([x1 * cos - x2 * sin, x2 * cos + x1 * sin], dim=-1)

    def loss(self, inputs, targets):
        """Mean cross-entropy (nats per token) of targets given inputs, both [b, s] int64."""
        cfg, p = self.cfg, self.params
        b, s = inputs.shape
        heads = lambda t: t.view(b, s, cfg.n_heads, cfg.head_dim).transpose(1, 2)
        x = F.embedding(inputs, p["embed"])
        for i in range(cfg.n_layers):
            w = lambda name: p["layers.%d.%s" % (i, name)]
            h = self.rms_norm(x, w("attn_norm"))
            q = self.rope(heads(F.linear(h, w("wq"))))
            k = self.rope(heads(F.linear(h, w("wk"))))
            v = heads(F.linear(h, w("wv")))
            scores = q @ k.transpose(-2, -1) + self.causal[:s, :s]  # No 1/sqrt(d_head).
            attended = (torch.softmax(scores, dim=-1) @ v).transpose(1, 2).reshape(b, s, -1)
            mlp_input = x if cfg.family == "parallel" else x + F.linear(attended, w("wo"))
            h = self.rms_norm(mlp_input, w("mlp_norm"))
            x = mlp_input + F.linear(F.silu(F.linear(h, w("w_gate"))) * F.linear(h, w("w_up")),
                                     w("w_down"))
            if cfg.family == "parallel":
                x = x + F.linear(attended, w("wo"))
        logits = F.linear(self.rms_norm(x, p["final_norm"]), p["head"])
        return F.cross_entropy(logits.reshape(-1, cfg.vocab), targets.reshape(-1))


class Trainer:
    """Masked AdamW with clipping and magnitude pruning, over a ReferenceModel."""

    def __init__(self, model, moments=None, adam_steps=0):
        self.model = model
        cfg = model.cfg
        self.order = [model.params[n] for n in model.names]
        self.opt = torch.optim.AdamW(self.order, lr=0.0, betas=(cfg.beta1, cfg.beta2),
                                     eps=cfg.adam_eps, weight_decay=cfg.weight_decay,
                                     foreach=False)
        if moments is not None:
            for name in model.names:
                m, v = moments[name]
                self.opt.state[model.params[name]] = {
                    "step": torch.tensor(float(adam_steps)), "exp_avg": m.clone(),
                    "exp_avg_sq": v.clone()}

    def prune(self, keep):
        """One pruning event; returns the number of prunable weights alive afterwards."""
        m = self.model
        groups = [[n] for n in m.prunable] if m.cfg.per_layer else [m.prunable]
        with torch.no_grad():
            for names in groups:
                mags = torch.cat([m.params[n].abs().flatten() for n in names])
                n = mags.numel()
                kept = min(n, int(math.floor(keep * n + 1e-9)))
                if kept == n:
                    continue
                tau = math.inf if kept == 0 else torch.kthvalue(mags, n - kept + 1).values
                for name in names:
                    alive = m.masks[name] & (m.params[name].abs() >= tau)
                    m.masks[name] = alive
                    m.params[name].mul_(alive)
                    state = self.opt.state.get(m.params[name])
                    if state:
                        state["exp_avg"].mul_(alive)
                        state["exp_avg_sq"].mul_(alive)
        return sum(int(m.masks[n].sum()) for n in m.prunable)

    def step(self, inputs, targets, lr, on_gradients=None):
        """Forward, backward, mask, clip, AdamW. Returns (loss, grad norm before clipping).
        on_gradients(), if given, runs after backward, before the gradients are masked."""
        m = self.model
        self.opt.zero_grad(set_to_none=False)
        loss = m.loss(inputs, targets)
        loss.backward()
        if on_gradients is not None:
            on_gradients()
        with torch.no_grad():
            for name in m.prunable:
                m.params[name].grad.mul_(m.masks[name])
        if m.cfg.clip > 0:
            norm = torch.nn.utils.clip_grad_norm_(self.order, m.cfg.clip)
        else:
            norm = torch.norm(torch.stack([p.grad.norm() for p in self.order]))
        for group in self.opt.param_groups:
            group["lr"] = lr
        self.opt.step()
        return loss.item(), float(norm)


def read_tokens(path, rows, seq_len):
    data = np.fromfile(path, dtype="<i8")
    if data.size != rows * (seq_len + 1):
        raise ValueError("%s holds %d tokens, expected %d x %d"
                         % (path, data.size, rows, seq_len + 1))
    return torch.from_numpy(data.astype(np.int64)).view(rows, seq_len + 1)


def run_parity(args):
    model, moments, adam_steps = ReferenceModel.from_checkpoint(args.checkpoint)
    with open(args.plan) as f:
        plan = json.load(f)
    trainer = Trainer(model, moments, adam_steps)
    steps = plan["steps"]
    rows = plan["sequences"]
    tokens = read_tokens(plan["batches"], len(steps) * rows, model.cfg.seq_len)
    result = {"losses": [], "kept": [], "grad_norms": []}
    for t, spec in enumerate(steps):
        if spec.get("keep") is not None:
            result["kept"].append(trainer.prune(spec["keep"]))
        batch = tokens[t * rows:(t + 1) * rows]

        def save_gradients(t=t):
            for name in model.names:
                path = os.path.join(args.out, "grad-%d-%s.f32" % (t, name))
                model.params[name].grad.numpy().astype("<f4").tofile(path)
                if name in model.masks:
                    path = os.path.join(args.out, "mask-%d-%s.u8" % (t, name))
                    model.masks[name].numpy().astype(np.uint8).tofile(path)

        loss, norm = trainer.step(batch[:, :-1], batch[:, 1:], spec["lr"],
                                  save_gradients if t in plan["grad_steps"] else None)
        result["losses"].append(loss)
        result["grad_norms"].append(norm)
        print("step %d loss %.9g grad_norm %.9g" % (t, loss, norm))
    with open(os.path.join(args.out, "result.json"), "w") as f:
        json.dump(result, f)


def run_eval(args):
    model, _, _ = ReferenceModel.from_checkpoint(args.checkpoint)
    tokens = read_tokens(args.tokens, args.count, model.cfg.seq_len)
    with torch.no_grad():
        loss = model.loss(tokens[:, :-1], tokens[:, 1:]).double().item()
    print("loss %.17g" % loss)


def matmul_peak_flops():
    """FLOP/s of a 1024^3 float32 matmul, best over 0.3 s (as worker/matmul_peak.h)."""
    n = 1024
    a, b, c = torch.randn(n, n), torch.randn(n, n), torch.empty(n, n)
    torch.mm(a, b, out=c)
    best, start = 0.0, time.perf_counter()
    while time.perf_counter() - start < 0.3:
        t0 = time.perf_counter()
        torch.mm(a, b, out=c)
        best = max(best, 2.0 * n ** 3 / (time.perf_counter() - t0))
    return best


def run_bench(args):
    torch.set_num_threads(args.threads)
    d, layers, heads = (int(v) for v in args.size.split("x"))
    cfg = Config(d_model=d, n_layers=layers, n_heads=heads, seq_len=args.seq_len, vocab=args.vocab)
    trainer = Trainer(ReferenceModel.random(cfg, 0))
    rows = args.batch_tokens // args.seq_len
    gen = torch.Generator().manual_seed(1)
    batches = torch.randint(cfg.vocab, (args.steps, rows, args.seq_len + 1), generator=gen)
    warmup, times, cpu = 3, [], []
    for t in range(args.steps):
        t0, c0 = time.perf_counter(), time.process_time()
        batch = batches[t]
        trainer.step(batch[:, :-1], batch[:, 1:], 1e-3)
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    step_s = float(np.median(times[warmup:]))
    print("step_s %.6g best_step_s %.6g cpu_s %.6g tokens_per_s %.6g peak_flops %.6g"
          % (step_s, min(times[warmup:]), float(np.median(cpu[warmup:])),
             args.batch_tokens / step_s, matmul_peak_flops()))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("parity")
    p.add_argument("--checkpoint", required=True)
    p.add_argument("--plan", required=True)
    p.add_argument("--out", required=True)
    p = sub.add_parser("eval")
    p.add_argument("--checkpoint", required=True)
    p.add_argument("--tokens", required=True)
    p.add_argument("--count", type=int, required=True)
    p = sub.add_parser("bench")
    p.add_argument("--size", required=True)
    p.add_argument("--seq-len", type=int, required=True)
    p.add_argument("--vocab", type=int, required=True)
    p.add_argument("--batch-tokens", type=int, required=True)
    p.add_argument("--steps", type=int, required=True)
    p.add_argument("--threads", type=int, required=True)
    args = parser.parse_args()
    try:
        {"parity": run_parity, "eval": run_eval, "bench": run_bench}[args.command](args)
    except (OSError, KeyError, ValueError) as e:
        print("reference_model.py: error: %s" % e, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
