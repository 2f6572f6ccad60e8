#!/usr/bin/env python3
"""A foreign Hugging Face Llama folder for `journey import`, and its loss by transformers.

  hf_llama_foreign.py OUT_DIR TOKENIZER_MODEL TEXT_FILE

Saves a small randomly initialised LlamaForCausalLM (seed 0, weights in BF16, untied head,
intermediate_size not 4 * hidden_size, vocab_size = the tokenizer's pieces) with
transformers' save_pretrained into OUT_DIR, copies TOKENIZER_MODEL there as tokenizer.model
(no masks.safetensors, no journey.json: a dense foreign model), then loads the folder back
with LlamaForCausalLM.from_pretrained (eager attention, float64) and scores TEXT_FILE as
`journey eval` does (hf_llama_forward.py's tokenize/windows/total_nats). Prints `tokens N`
and `loss X` and exits 0.
"""
import os
import shutil
import sys
import types

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hf_llama_forward as forward  # noqa: E402


def main():
    out_dir, tokenizer_model, text_file = sys.argv[1:4]
    from transformers import LlamaConfig, LlamaForCausalLM
    import sentencepiece

    sp = sentencepiece.SentencePieceProcessor()
    sp.Load(tokenizer_model)
    config = LlamaConfig(vocab_size=sp.get_piece_size(), hidden_size=32, intermediate_size=88,
                         num_hidden_layers=2, num_attention_heads=2, num_key_value_heads=2,
                         max_position_embeddings=32, rms_norm_eps=1e-5, rope_theta=10000.0,
                         tie_word_embeddings=False, initializer_range=0.2, bos_token_id=1,
                         eos_token_id=2)
    torch.manual_seed(0)
    model = LlamaForCausalLM(config)
    with torch.no_grad():  # Norm gains away from 1, so a misplaced gain shows in the loss.
        for name, p in model.named_parameters():
            if name.endswith("norm.weight"):
                p.uniform_(0.5, 1.5)
    model.to(torch.bfloat16).save_pretrained(out_dir, safe_serialization=True)
    shutil.copyfile(tokenizer_model, os.path.join(out_dir, "tokenizer.model"))

    loaded = LlamaForCausalLM.from_pretrained(out_dir, attn_implementation="eager")
    loaded = loaded.to(torch.float64).eval()
    cfg = types.SimpleNamespace(vocab=config.vocab_size, seq_len=config.max_position_embeddings)
    tokens = forward.tokenize(types.SimpleNamespace(folder=out_dir, cfg=cfg), text_file)
    scorer = types.SimpleNamespace(cfg=cfg, logits=lambda ids: loaded(input_ids=ids).logits)
    total = forward.total_nats(scorer, tokens)
    print("tokens %d" % (len(tokens) - 1))
    print("loss %.9f" % (total / (len(tokens) - 1)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
