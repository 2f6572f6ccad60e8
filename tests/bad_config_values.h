// Every config validation rule as a broken override and the words its error must contain.
// Shared by config_test.cpp (messages, in-process) and cli_test.cpp (exit codes, binary).
#pragma once

namespace journey::testing {

// One row per validation rule: an override that breaks it and the words the error must say.
struct BadValue {
  const char* override_flag;
  const char* key;
  const char* rule_words;
};

inline constexpr BadValue kBadValues[] = {
    {"--model.d_model=0", "model.d_model", "[1, 65536]"},
    {"--model.d_model=100000000000", "model.d_model", "[1, 65536]"},
    {"--model.n_layers=-1", "model.n_layers", "[1, 1024]"},
    {"--model.n_layers=99999999999", "model.n_layers", "[1, 1024]"},
    {"--model.n_heads=0", "model.n_heads", "positive"},
    {"--model.n_heads=3", "model.n_heads", "divide"},
    {"--model.n_heads=128", "model.n_heads", "even"},
    {"--model.ffn_dim=-5", "model.ffn_dim", "[1, 262144]"},
    {"--model.seq_len=0", "model.seq_len", "[1, 1048576]"},
    {"--model.rope_base=1", "model.rope_base", "greater than 1"},
    {"--model.norm_eps=0", "model.norm_eps", "positive"},
    {"--model.norm_eps=inf", "model.norm_eps", "finite"},
    {"--train.tokens=-1", "train.tokens", "positive"},
    {"--train.tokens_per_param=0", "train.tokens_per_param", "positive"},
    {"--train.tokens_per_param=inf", "train.tokens_per_param", "finite"},
    {"--train.batch_tokens=0", "train.batch_tokens", "positive"},
    {"--train.batch_tokens=1000", "train.batch_tokens", "multiple of model.seq_len"},
    {"--train.lr=0", "train.lr", "positive"},
    {"--train.lr=inf", "train.lr", "finite"},
    {"--train.warmup_frac=1", "train.warmup_frac", "[0, 1)"},
    {"--train.final_lr_frac=1.5", "train.final_lr_frac", "[0, 1]"},
    {"--train.weight_decay=-0.1", "train.weight_decay", ">= 0"},
    {"--train.beta1=1", "train.beta1", "[0, 1)"},
    {"--train.beta2=-0.5", "train.beta2", "[0, 1)"},
    {"--train.adam_eps=0", "train.adam_eps", "positive"},
    {"--train.clip=-1", "train.clip", ">= 0"},
    {"--train.collective_timeout_s=-1", "train.collective_timeout_s", "wait forever"},
    {"--train.eval_every=-1", "train.eval_every", ">= 0"},
    {"--train.eval_sequences=0", "train.eval_sequences", "positive"},
    {"--train.checkpoint_every=-2", "train.checkpoint_every", ">= 0"},
    {"--train.keep_checkpoints=0", "train.keep_checkpoints", "at least 1"},
    {"--train.log_every=0", "train.log_every", "at least 1"},
    {"--train.threads=-1", "train.threads", "[0, 1024]"},
    {"--train.threads=99999999999", "train.threads", "[0, 1024]"},
    {"--prune.schedule=linear", "prune.schedule", "geometric or cubic"},
    {"--prune.sparsity=1", "prune.sparsity", "[0, 1)"},
    {"--prune.sparsity=-0.1", "prune.sparsity", "[0, 1)"},
    {"--prune.dense_frac=1.5", "prune.dense_frac", "[0, 1]"},
    {"--prune.prune_end_frac=0.2", "prune.prune_end_frac", "end after it starts"},
    {"--prune.prune_end_frac=1.25", "prune.prune_end_frac", "sum to at most 1"},
    {"--prune.phase_units=tokens", "prune.phase_units", "compute or steps"},
    {"--prune.start_step=10", "prune.start_step", "together"},
    {"--prune.end_step=10", "prune.end_step", "together"},
    {"--prune.interval=-1", "prune.interval", ">= 0"},
    {"--prune.scope=block", "prune.scope", "global or layer"},
    {"--train.device=tpu", "train.device", "auto, cpu or cuda"},
    {"--train.precision=fp16", "train.precision", "fp32 or bf16"},
    {"--model.family=gpt2", "model.family", "llama or parallel"},
    {"--data.vocab_size=100", "data.vocab_size", "[320, 65535]"},
    {"--data.val_fraction=0", "data.val_fraction", "(0, 0.5)"},
    {"--sweep.sizes=128x2", "sweep.sizes", "DxLxH"},
    {"--sweep.sizes=128x2x3", "sweep.sizes", "heads dividing"},
    {"--sweep.sizes=128x2000x4", "sweep.sizes", "layers at most 1024"},
    {"--sweep.sparsities=0.5 1.0", "sweep.sparsities", "[0, 1)"},
    {"--sweep.sparsities=half", "sweep.sparsities", "not a number"},
    {"--sweep.phases=0.25", "sweep.phases", "c_s:c_e"},
    {"--sweep.phases=0.5:0.25", "sweep.phases", "end after it starts"},
    {"--sweep.phases=0.5:1.5", "sweep.phases", "sum to at most 1"},
    {"--sweep.tokens_per_param=0", "sweep.tokens_per_param", "positive"},
    {"--sweep.tokens_per_param=inf", "sweep.tokens_per_param", "finite"},
    {"--sweep.schedules=linear", "sweep.schedules", "geometric or cubic"},
    {"--sweep.seeds=1.5", "sweep.seeds", "non-negative integer"},
    {"--sweep.lrs=0 1e-3", "sweep.lrs", "(0, 10)"},
    {"--sweep.lrs=1e-3 10", "sweep.lrs", "(0, 10)"},
    {"--sweep.lrs=1e-3 fast", "sweep.lrs", "not a number"},
    {"--sweep.lrs=1e-3,1e-3", "sweep.lrs", "listed twice"},
    {"--sweep.lrs=48x2x2:1e-3,2e-3", "sweep.lrs", "need sweep.sizes"},
    {"--sweep.group_size=0", "sweep.group_size", "[1, 1048576]"},
    {"--sweep.group_size=4294967297", "sweep.group_size", "[1, 1048576]"},
};

}  // namespace journey::testing
