"""A tiny random causal LM with SmolLM2's tokenizer: fast training smoke runs and tests.

`make_tiny_model(folder)` writes a 2-layer Llama (about 1.6M parameters) that trains in well
under a second per step; use it as `local:hf:<folder>`. Its outputs are noise, not plans.
"""

from __future__ import annotations

from pathlib import Path


def make_tiny_model(folder: Path, seed: int = 0) -> str:
    """Write the tiny model to FOLDER once; return its model spec (`local:hf:<folder>`)."""
    folder = Path(folder)
    if not (folder / "config.json").is_file():
        import torch
        from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

        from models.backends.local import converted_dir

        tokenizer = AutoTokenizer.from_pretrained(converted_dir("smollm2-135m"))
        config = LlamaConfig(
            vocab_size=len(tokenizer),
            hidden_size=32,
            intermediate_size=64,
            num_hidden_layers=2,
            num_attention_heads=4,
            num_key_value_heads=2,
            max_position_embeddings=2048,
            tie_word_embeddings=True,
            bos_token_id=tokenizer.bos_token_id,
            eos_token_id=tokenizer.eos_token_id,
            pad_token_id=tokenizer.pad_token_id,
        )
        torch.manual_seed(seed)
        model = LlamaForCausalLM(config)
        model.save_pretrained(folder)
        tokenizer.save_pretrained(folder)
    return f"local:hf:{folder}"
