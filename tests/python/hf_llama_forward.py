#!/usr/bin/env python3
"""Independent reader and forward pass of a `journey export` folder (Hugging Face Llama).

It imports nothing from Journey, nor transformers or safetensors: it parses the folder by hand
from the contract below and scores a text file with the standard Hugging Face Llama forward
pass, written out here in float64 torch, so that its loss can be compared with `journey eval`'s.

  hf_llama_forward.py EXPORT_DIR TEXT_FILE [--checkpoint CKPT.h5] [--transformers]

prints `tokens N` (the predicted tokens) and `loss X` (mean nats per token) and exits 0. With
--checkpoint it first checks the export against the Journey HDF5 checkpoint it came from and
prints `export matches checkpoint: K tensors, M masks`. Every problem (a malformed file, a
contract violation, a mismatch) is printed as a `hf_llama_forward.py: <problem>` line and the
exit status is 1. With --transformers the forward pass is Hugging Face's own: the folder is
loaded with transformers' LlamaForCausalLM.from_pretrained (eager attention, float64) in
place of the one written out here, and the same windows are scored.

The export folder (the contract):

  config.json        LlamaConfig: architectures ["LlamaForCausalLM"], model_type "llama",
                     hidden_size d, intermediate_size f, num_hidden_layers L,
                     num_attention_heads H = num_key_value_heads, head_dim d/H, hidden_act
                     "silu", rms_norm_eps, rope_theta, rope_scaling null,
                     max_position_embeddings = the training sequence length, vocab_size V,
                     tie_word_embeddings / attention_bias / mlp_bias false, bos_token_id 1,
                     eos_token_id 2, torch_dtype "float32".
  model.safetensors  F32 tensors by HF name: model.embed_tokens.weight [V,d];
                     model.layers.{i}.input_layernorm.weight [d];
                     model.layers.{i}.self_attn.{q,k,v,o}_proj.weight [d,d] ([out, in]);
                     model.layers.{i}.post_attention_layernorm.weight [d];
                     model.layers.{i}.mlp.{gate,up}_proj.weight [f,d], down_proj [d,f];
                     model.norm.weight [d]; lm_head.weight [V,d]. Pruned weights are exactly 0.
                     Journey's attention has no 1/sqrt(head_dim) logit scale, so q_proj is
                     Journey's wq times sqrt(head_dim) and the standard HF attention applies.
  masks.safetensors  for each prunable matrix X (the seven projections of every layer and
                     lm_head.weight): "X.indptr" I64 [rows+1] and "X.indices" I32 [nnz], the
                     CSR pattern of its kept weights (column indices sorted within a row);
                     __metadata__ holds "X.shape": "rows,cols" for each X and "format": "csr".
  tokenizer.model    SentencePiece: <unk> 0, <s> 1, </s> 2, byte fallback, no dummy prefix;
                     with tokenizer_config.json and special_tokens_map.json.

safetensors: a little-endian u64 header length N, N bytes of JSON (padded with spaces to a
multiple of 8) mapping each name to {"dtype", "shape", "data_offsets": [begin, end]} (offsets
into the byte buffer after the header; the tensors tile it without gaps or overlaps), plus an
optional "__metadata__" map of strings.

Scoring, as `journey eval` does it: tokens = [BOS] + the SentencePiece ids of the whole text
file; windows of seq_len + 1 tokens start every seq_len tokens (the last one may be shorter,
positions restart at 0 in each), so every token but the first is predicted exactly once; the
loss is the total cross-entropy in nats over len(tokens) - 1.
"""
import argparse
import configparser
import json
import math
import os
import struct
import sys

import h5py
import numpy as np
import torch
import torch.nn.functional as F

PROGRAM = "hf_llama_forward.py"
BOS, EOS, UNK = 1, 2, 0

# safetensors dtype -> numpy little-endian dtype (the only ones an export may hold).
DTYPES = {"F32": np.dtype("<f4"), "I32": np.dtype("<i4"), "I64": np.dtype("<i8")}

# Relative tolerance of an exported weight against the checkpoint's (float32 rounding of the
# sqrt(head_dim) factor is about 6e-8).
WEIGHT_RTOL = 1e-6

# Tokens scored per forward call (bounds the float64 logits' memory).
BATCH_TOKENS = 2048


class ExportError(Exception):
    """A problem that stops the check: the message is printed after the program's name."""


# ---------------------------------------------------------------------------------------------
# Names


def layer_names(i):
    """(Journey name, HF name, prunable) of layer i's tensors."""
    j, h = "layers.%d." % i, "model.layers.%d." % i
    return [
        (j + "attn_norm", h + "input_layernorm.weight", False),
        (j + "wq", h + "self_attn.q_proj.weight", True),
        (j + "wk", h + "self_attn.k_proj.weight", True),
        (j + "wv", h + "self_attn.v_proj.weight", True),
        (j + "wo", h + "self_attn.o_proj.weight", True),
        (j + "mlp_norm", h + "post_attention_layernorm.weight", False),
        (j + "w_gate", h + "mlp.gate_proj.weight", True),
        (j + "w_up", h + "mlp.up_proj.weight", True),
        (j + "w_down", h + "mlp.down_proj.weight", True),
    ]


def all_names(cfg):
    """(Journey name, HF name, prunable, shape) of every tensor, in model order."""
    d, f, v = cfg.d, cfg.f, cfg.vocab
    shapes = {"attn_norm": (d,), "mlp_norm": (d,), "wq": (d, d), "wk": (d, d), "wv": (d, d),
              "wo": (d, d), "w_gate": (f, d), "w_up": (f, d), "w_down": (d, f)}
    out = [("embed", "model.embed_tokens.weight", False, (v, d))]
    for i in range(cfg.layers):
        out += [(j, h, p, shapes[j.split(".")[-1]]) for j, h, p in layer_names(i)]
    out += [("final_norm", "model.norm.weight", False, (d,)),
            ("head", "lm_head.weight", True, (v, d))]
    return out


# ---------------------------------------------------------------------------------------------
# safetensors


def no_duplicate_keys(pairs):
    keys = [k for k, _ in pairs]
    if len(set(keys)) != len(keys):
        raise ValueError("duplicate key %r" % sorted(k for k in keys if keys.count(k) > 1)[0])
    return dict(pairs)


def is_int(x):
    return isinstance(x, int) and not isinstance(x, bool)


def read_safetensors(path):
    """Returns ({name: numpy array}, {metadata key: string}); ExportError if malformed."""
    name = os.path.basename(path)
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise ExportError("%s: cannot read: %s" % (path, e.strerror))
    if len(data) < 8:
        raise ExportError("%s: %d bytes, too short for the 8-byte header length" % (name, len(data)))
    (n,) = struct.unpack("<Q", data[:8])
    if n > len(data) - 8:
        raise ExportError("%s: header length %d exceeds the %d bytes after it"
                          % (name, n, len(data) - 8))
    if n % 8 != 0:
        raise ExportError("%s: header length %d is not padded to a multiple of 8" % (name, n))
    try:
        header = json.loads(data[8:8 + n].decode("utf-8"), object_pairs_hook=no_duplicate_keys)
    except (UnicodeDecodeError, ValueError) as e:
        raise ExportError("%s: header is not valid JSON: %s" % (name, e))
    if not isinstance(header, dict):
        raise ExportError("%s: header is not a JSON object" % name)

    metadata = header.pop("__metadata__", {})
    if not isinstance(metadata, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()):
        raise ExportError("%s: __metadata__ is not a map of strings" % name)

    buffer = data[8 + n:]
    tensors, spans = {}, []
    for key, entry in header.items():
        where = "%s: tensor %r" % (name, key)
        if not isinstance(entry, dict) or set(entry) != {"dtype", "shape", "data_offsets"}:
            raise ExportError("%s: entry must have exactly dtype, shape, data_offsets" % where)
        dtype, shape, offsets = entry["dtype"], entry["shape"], entry["data_offsets"]
        if dtype not in DTYPES:
            raise ExportError("%s: dtype %r is not one of %s" % (where, dtype, sorted(DTYPES)))
        if not isinstance(shape, list) or not all(is_int(s) and s >= 0 for s in shape):
            raise ExportError("%s: shape %r is not a list of sizes" % (where, shape))
        if (not isinstance(offsets, list) or len(offsets) != 2
                or not all(is_int(o) for o in offsets)):
            raise ExportError("%s: data_offsets %r is not [begin, end]" % (where, offsets))
        begin, end = offsets
        if not 0 <= begin <= end <= len(buffer):
            raise ExportError("%s: data_offsets [%d, %d] out of range of the %d-byte buffer"
                              % (where, begin, end, len(buffer)))
        count = math.prod(shape)
        if end - begin != count * DTYPES[dtype].itemsize:
            raise ExportError("%s: %d bytes for %s %s (%d expected)"
                              % (where, end - begin, dtype, shape, count * DTYPES[dtype].itemsize))
        if count == 0:
            tensors[key] = np.zeros(shape, DTYPES[dtype])
        else:
            tensors[key] = np.frombuffer(buffer, DTYPES[dtype], count, begin).reshape(shape)
        spans.append((begin, end, key))

    # The tensors must tile the buffer: no gap, no overlap, no trailing bytes.
    position = 0
    for begin, end, key in sorted(spans):
        if begin != position:
            raise ExportError("%s: tensor %r starts at byte %d, expected %d (%s)"
                              % (name, key, begin, position,
                                 "overlap" if begin < position else "gap"))
        position = end
    if position != len(buffer):
        raise ExportError("%s: %d bytes after the last tensor" % (name, len(buffer) - position))
    return tensors, metadata


# ---------------------------------------------------------------------------------------------
# The export folder


class LlamaShape:
    """The numbers of config.json the forward pass needs."""

    def __init__(self, config):
        def get(key, kinds):
            if key not in config:
                raise ExportError("config.json: %s is missing" % key)
            value = config[key]
            if isinstance(value, bool) or not isinstance(value, kinds):
                raise ExportError("config.json: %s is %r" % (key, value))
            return value

        def expect(key, want):
            if config.get(key, "(missing)") != want:
                raise ExportError("config.json: %s is %s, expected %s"
                                  % (key, json.dumps(config.get(key, "(missing)")),
                                     json.dumps(want)))

        self.d = get("hidden_size", int)
        self.f = get("intermediate_size", int)
        self.layers = get("num_hidden_layers", int)
        self.heads = get("num_attention_heads", int)
        self.vocab = get("vocab_size", int)
        self.seq_len = get("max_position_embeddings", int)
        self.eps = float(get("rms_norm_eps", (int, float)))
        self.theta = float(get("rope_theta", (int, float)))
        for key in ("hidden_size", "intermediate_size", "num_hidden_layers",
                    "num_attention_heads", "vocab_size", "max_position_embeddings"):
            if config[key] <= 0:
                raise ExportError("config.json: %s is %d" % (key, config[key]))
        if self.d % self.heads != 0 or (self.d // self.heads) % 2 != 0:
            raise ExportError("config.json: hidden_size %d does not split into %d heads of "
                              "an even size" % (self.d, self.heads))
        self.head_dim = self.d // self.heads
        expect("architectures", ["LlamaForCausalLM"])
        expect("model_type", "llama")
        expect("num_key_value_heads", self.heads)
        expect("head_dim", self.head_dim)
        expect("hidden_act", "silu")
        expect("rope_scaling", None)
        expect("tie_word_embeddings", False)
        expect("attention_bias", False)
        expect("mlp_bias", False)
        expect("bos_token_id", BOS)
        expect("eos_token_id", EOS)
        expect("torch_dtype", "float32")


def read_json(path):
    try:
        with open(path, "rb") as f:
            value = json.loads(f.read().decode("utf-8"), object_pairs_hook=no_duplicate_keys)
    except OSError as e:
        raise ExportError("%s: cannot read: %s" % (path, e.strerror))
    except (UnicodeDecodeError, ValueError) as e:
        raise ExportError("%s: not valid JSON: %s" % (os.path.basename(path), e))
    if not isinstance(value, dict):
        raise ExportError("%s: not a JSON object" % os.path.basename(path))
    return value


def decode_csr(name, indptr, indices, shape):
    """The dense bool mask of a CSR pattern; ExportError unless it is well formed."""
    rows, cols = shape
    if indptr.shape != (rows + 1,):
        raise ExportError("masks.safetensors: %s.indptr has shape %s, expected [%d]"
                          % (name, list(indptr.shape), rows + 1))
    if indptr[0] != 0 or indptr[-1] != len(indices) or np.any(np.diff(indptr) < 0):
        raise ExportError("masks.safetensors: %s.indptr is not 0, non-decreasing, up to nnz %d"
                          % (name, len(indices)))
    if len(indices) and (indices.min() < 0 or indices.max() >= cols):
        raise ExportError("masks.safetensors: %s.indices has a column outside [0, %d)"
                          % (name, cols))
    row_of = np.repeat(np.arange(rows), np.diff(indptr))
    # Within a row the columns must increase strictly (sorted, no repeats).
    same_row = row_of[1:] == row_of[:-1]
    if np.any(same_row & (np.diff(indices.astype(np.int64)) <= 0)):
        raise ExportError("masks.safetensors: %s.indices are not strictly increasing in a row"
                          % name)
    dense = np.zeros((rows, cols), dtype=bool)
    dense[row_of, indices] = True
    return dense


class Export:
    """config.json, the weights (float32 numpy by HF name), the masks (dense bool by HF name)."""

    def __init__(self, folder):
        self.folder = folder
        self.cfg = LlamaShape(read_json(os.path.join(folder, "config.json")))
        self.names = all_names(self.cfg)
        self.weights = self.read_weights()
        self.masks = self.read_masks()
        for extra in ("tokenizer_config.json", "special_tokens_map.json"):
            read_json(os.path.join(folder, extra))

    def read_weights(self):
        tensors, _ = read_safetensors(os.path.join(self.folder, "model.safetensors"))
        want = {hf: shape for _, hf, _, shape in self.names}
        missing, extra = sorted(set(want) - set(tensors)), sorted(set(tensors) - set(want))
        if missing or extra:
            raise ExportError("model.safetensors: missing %s, unexpected %s" % (missing, extra))
        for hf, shape in want.items():
            t = tensors[hf]
            if t.dtype != DTYPES["F32"] or t.shape != shape:
                raise ExportError("model.safetensors: %s is %s %s, expected F32 %s"
                                  % (hf, t.dtype, list(t.shape), list(shape)))
        return tensors

    def read_masks(self):
        tensors, metadata = read_safetensors(os.path.join(self.folder, "masks.safetensors"))
        prunable = [(hf, shape) for _, hf, p, shape in self.names if p]
        want = {hf + suffix for hf, _ in prunable for suffix in (".indptr", ".indices")}
        missing, extra = sorted(want - set(tensors)), sorted(set(tensors) - want)
        if missing or extra:
            raise ExportError("masks.safetensors: missing %s, unexpected %s" % (missing, extra))
        want_meta = {"format"} | {hf + ".shape" for hf, _ in prunable}
        missing, extra = sorted(want_meta - set(metadata)), sorted(set(metadata) - want_meta)
        if missing or extra:
            raise ExportError("masks.safetensors: __metadata__ is missing %s, has unexpected %s"
                              % (missing, extra))
        if metadata["format"] != "csr":
            raise ExportError("masks.safetensors: format is %r, expected 'csr'"
                              % metadata["format"])
        masks = {}
        for hf, shape in prunable:
            text = "%d,%d" % shape
            if metadata[hf + ".shape"] != text:
                raise ExportError("masks.safetensors: %s.shape is %r, expected %r"
                                  % (hf, metadata[hf + ".shape"], text))
            indptr, indices = tensors[hf + ".indptr"], tensors[hf + ".indices"]
            if indptr.dtype != DTYPES["I64"] or indices.dtype != DTYPES["I32"]:
                raise ExportError("masks.safetensors: %s's indptr/indices are %s/%s, expected "
                                  "I64/I32" % (hf, indptr.dtype, indices.dtype))
            if indices.ndim != 1:
                raise ExportError("masks.safetensors: %s.indices is not 1-D" % hf)
            masks[hf] = decode_csr(hf, indptr, indices, shape)
        return masks

    def check_pruned_weights_are_zero(self):
        problems = []
        for hf, mask in self.masks.items():
            alive = np.count_nonzero(self.weights[hf][~mask])
            if alive:
                problems.append("%s: %d weights outside its mask are not 0" % (hf, alive))
        return problems


# ---------------------------------------------------------------------------------------------
# The checkpoint check


def ini_value(ini, section, key, kind):
    if ini.has_option(section, key):
        return kind(ini.get(section, key))
    return None


def compare_with_checkpoint(export, path):
    """Problems (strings) between the export and the Journey checkpoint at path; [] if none."""
    cfg, problems = export.cfg, []
    try:
        f = h5py.File(path, "r")
    except OSError as e:
        raise ExportError("%s: cannot open as HDF5: %s" % (path, e))
    with f:
        if f.attrs.get("format") != "journey-checkpoint":
            raise ExportError("%s is not a journey checkpoint" % path)

        # config.json against the checkpoint's config (keys the INI text states).
        ini = configparser.ConfigParser()
        ini.read_string(f.attrs.get("config", ""))
        for section, key, kind, ours in [
                ("model", "d_model", int, cfg.d), ("model", "n_layers", int, cfg.layers),
                ("model", "n_heads", int, cfg.heads), ("model", "seq_len", int, cfg.seq_len),
                ("model", "rope_base", float, cfg.theta), ("model", "norm_eps", float, cfg.eps),
                ("data", "vocab_size", int, cfg.vocab)]:
            theirs = ini_value(ini, section, key, kind)
            if theirs is not None and not math.isclose(theirs, ours, rel_tol=1e-6):
                problems.append("config.json says %s, the checkpoint's %s.%s is %s"
                                % (ours, section, key, theirs))

        # (c) the same tensors on both sides.
        params = set(f["params"].keys()) if "params" in f else set()
        masks = set(f["masks"].keys()) if "masks" in f else set()
        want_params = {j for j, _, _, _ in export.names}
        want_masks = {j for j, _, p, _ in export.names if p}
        for what, have, want in (("params", params, want_params), ("masks", masks, want_masks)):
            if sorted(want - have):
                problems.append("the export has %s the checkpoint lacks under %s/"
                                % (sorted(want - have), what))
            if sorted(have - want):
                problems.append("the checkpoint has %s/%s the export lacks"
                                % (what, sorted(have - want)))

        scale = math.sqrt(cfg.head_dim)
        for journey, hf, prunable, shape in export.names:
            if journey not in params or (prunable and journey not in masks):
                continue
            param = f["params/" + journey][()]
            if param.dtype != np.float32 or param.shape != shape:
                problems.append("params/%s is %s %s, expected float32 %s"
                                % (journey, param.dtype, param.shape, shape))
                continue
            expected = param.astype(np.float64)
            if prunable:
                mask = f["masks/" + journey][()]
                if mask.shape != shape or not np.all((mask == 0) | (mask == 1)):
                    problems.append("masks/%s is not a 0/1 array of shape %s" % (journey, shape))
                    continue
                # (b) the CSR mask decodes to exactly the checkpoint's.
                differ = np.count_nonzero(export.masks[hf] != mask.astype(bool))
                if differ:
                    problems.append("%s: the CSR mask differs from masks/%s at %d places"
                                    % (hf, journey, differ))
                expected = expected * mask
            if journey.endswith(".wq"):
                expected = expected * scale  # Journey's missing 1/sqrt(head_dim), folded in.
            # (a) the weight, to WEIGHT_RTOL relative (so a pruned 0 must be exactly 0).
            got = export.weights[hf].astype(np.float64)
            bad = np.abs(got - expected) > WEIGHT_RTOL * np.abs(expected)
            if np.any(bad):
                at = tuple(int(k) for k in np.argwhere(bad)[0])
                formula = "params/" + journey + (" * mask" if prunable else "") + (
                    " * sqrt(head_dim)" if journey.endswith(".wq") else "")
                problems.append("%s differs from %s at %d places, first %s: %r, expected %r"
                                % (hf, formula, np.count_nonzero(bad), at, got[at], expected[at]))

        # The tokenizer the checkpoint embeds, if it does, byte for byte.
        if "state/tokenizer_model" in f:
            blob = f["state/tokenizer_model"][()].tobytes()
            try:
                with open(os.path.join(export.folder, "tokenizer.model"), "rb") as t:
                    if t.read() != blob:
                        problems.append("tokenizer.model differs from the checkpoint's "
                                        "state/tokenizer_model")
            except OSError as e:
                problems.append("tokenizer.model: cannot read: %s" % e.strerror)
    return problems


# ---------------------------------------------------------------------------------------------
# Tokens


def tokenize(export, text_path):
    """[BOS] + the SentencePiece ids of the whole text file."""
    import sentencepiece  # Here, so that a missing package is reported with the other problems.
    model_path = os.path.join(export.folder, "tokenizer.model")
    sp = sentencepiece.SentencePieceProcessor()
    try:
        sp.Load(model_path)
    except (OSError, RuntimeError) as e:
        raise ExportError("tokenizer.model cannot be loaded: %s" % e)
    ids = (sp.unk_id(), sp.bos_id(), sp.eos_id(), sp.get_piece_size())
    if ids != (UNK, BOS, EOS, export.cfg.vocab):
        raise ExportError("tokenizer.model has unk, bos, eos ids %s and %d pieces, expected "
                          "%s and vocab_size %d" % (ids[:3], ids[3], (UNK, BOS, EOS),
                                                    export.cfg.vocab))
    try:
        with open(text_path, "rb") as f:
            text = f.read().decode("utf-8")
    except OSError as e:
        raise ExportError("%s: cannot read: %s" % (text_path, e.strerror))
    except UnicodeDecodeError as e:
        raise ExportError("%s: not UTF-8 (byte %d)" % (text_path, e.start))
    return [BOS] + sp.encode(text, out_type=int)


# ---------------------------------------------------------------------------------------------
# The Hugging Face Llama forward pass, in float64


class LlamaForward:
    def __init__(self, export):
        cfg = self.cfg = export.cfg
        self.w = {k: torch.from_numpy(v.astype(np.float64)) for k, v in export.weights.items()}
        # RoPE: inv_freq_i = 1 / theta^(2i / head_dim); angle = position * inv_freq; cos and sin
        # repeated twice along the last dimension, as HF's LlamaRotaryEmbedding builds them.
        hd = cfg.head_dim
        inv_freq = 1.0 / (cfg.theta ** (torch.arange(0, hd, 2, dtype=torch.float64) / hd))
        angles = torch.outer(torch.arange(cfg.seq_len, dtype=torch.float64), inv_freq)
        angles = torch.cat([angles, angles], dim=-1)
        self.cos, self.sin = angles.cos(), angles.sin()

    def rms_norm(self, x, weight):
        # x / sqrt(mean(x^2) + eps) * weight, over the hidden dimension.
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.cfg.eps) * weight

    @staticmethod
    def rotate_half(x):
        half = x.shape[-1] // 2
        return torch.cat([-x[..., half:], x[..., :half]], dim=-1)

    def rope(self, x):
        # x: [b, heads, s, head_dim]; positions 0..s-1.
        s = x.shape[2]
        return x * self.cos[:s] + self.rotate_half(x) * self.sin[:s]

    def attention(self, x, prefix):
        cfg, w = self.cfg, self.w
        b, s, _ = x.shape
        # Head h is rows [h*hd, (h+1)*hd) of a projection's output.
        heads = lambda t: t.view(b, s, cfg.heads, cfg.head_dim).transpose(1, 2)
        q = self.rope(heads(F.linear(x, w[prefix + "q_proj.weight"])))
        k = self.rope(heads(F.linear(x, w[prefix + "k_proj.weight"])))
        v = heads(F.linear(x, w[prefix + "v_proj.weight"]))
        # softmax(q k^T / sqrt(head_dim) + causal mask) v.
        causal = torch.full((s, s), float("-inf"), dtype=torch.float64).triu(1)
        scores = q @ k.transpose(-2, -1) * cfg.head_dim ** -0.5 + causal
        out = (torch.softmax(scores, dim=-1) @ v).transpose(1, 2).reshape(b, s, cfg.d)
        return F.linear(out, w[prefix + "o_proj.weight"])

    def mlp(self, x, prefix):
        w = self.w
        gate = F.silu(F.linear(x, w[prefix + "gate_proj.weight"]))
        return F.linear(gate * F.linear(x, w[prefix + "up_proj.weight"]),
                        w[prefix + "down_proj.weight"])

    def logits(self, ids):
        """ids: [b, s] int64 -> logits [b, s, V] float64."""
        w = self.w
        x = F.embedding(ids, w["model.embed_tokens.weight"])
        for i in range(self.cfg.layers):
            p = "model.layers.%d." % i
            x = x + self.attention(self.rms_norm(x, w[p + "input_layernorm.weight"]),
                                   p + "self_attn.")
            x = x + self.mlp(self.rms_norm(x, w[p + "post_attention_layernorm.weight"]),
                             p + "mlp.")
        return F.linear(self.rms_norm(x, w["model.norm.weight"]), w["lm_head.weight"])


def windows(tokens, seq_len):
    """Window w = tokens[w*seq_len : w*seq_len + seq_len + 1] while it predicts something."""
    return [tokens[start:start + seq_len + 1] for start in range(0, len(tokens) - 1, seq_len)]


def total_nats(model, tokens):
    """The summed cross-entropy of every token but the first, window by window."""
    all_windows = windows(tokens, model.cfg.seq_len)
    per_batch = max(1, BATCH_TOKENS // model.cfg.seq_len)
    total = 0.0
    start = 0
    with torch.no_grad():
        while start < len(all_windows):
            # A batch of windows of one length (all full but possibly the last window).
            length = len(all_windows[start])
            end = start
            while (end < len(all_windows) and end - start < per_batch
                   and len(all_windows[end]) == length):
                end += 1
            batch = torch.tensor(all_windows[start:end], dtype=torch.int64)
            logits = model.logits(batch[:, :-1])
            total += F.cross_entropy(logits.reshape(-1, logits.shape[-1]),
                                     batch[:, 1:].reshape(-1), reduction="sum").item()
            start = end
    return total


# ---------------------------------------------------------------------------------------------


class TransformersForward:
    """The export loaded by transformers itself: LlamaForCausalLM.from_pretrained."""

    def __init__(self, export, folder):
        from transformers import LlamaForCausalLM

        self.cfg = export.cfg
        self.model = LlamaForCausalLM.from_pretrained(folder, attn_implementation="eager")
        self.model = self.model.to(torch.float64).eval()

    def logits(self, inputs):
        return self.model(input_ids=inputs).logits


def run(args):
    export = Export(args.export_dir)
    problems = export.check_pruned_weights_are_zero()
    if args.checkpoint:
        problems += compare_with_checkpoint(export, args.checkpoint)
    if problems:
        return problems
    if args.checkpoint:
        print("export matches checkpoint: %d tensors, %d masks"
              % (len(export.weights), len(export.masks)))
    tokens = tokenize(export, args.text_file)
    if len(tokens) < 2:
        raise ExportError("%s: no tokens to predict" % args.text_file)
    model = TransformersForward(export, args.export_dir) if args.transformers else LlamaForward(export)
    total = total_nats(model, tokens)
    print("tokens %d" % (len(tokens) - 1))
    print("loss %.9f" % (total / (len(tokens) - 1)))
    return []


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("export_dir")
    parser.add_argument("text_file")
    parser.add_argument("--checkpoint", help="the Journey HDF5 checkpoint to check against")
    parser.add_argument("--transformers", action="store_true",
                        help="score with transformers' LlamaForCausalLM instead")
    args = parser.parse_args()
    try:
        problems = run(args)
    except ExportError as e:
        problems = [str(e)]
    except ImportError as e:
        problems = ["cannot import %s (scripts/setup.sh installs it into .venv: %s)" % (e.name, e.name)]
    for p in problems:
        print("%s: %s" % (PROGRAM, p))
    sys.stdout.flush()
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
