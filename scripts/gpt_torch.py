#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""A small GPT-style transformer with PyTorch as a Contention command tenant.

Builds a GPT-2-shaped language model from a configuration in code with random weights (nothing is
downloaded: transformers' GPT2LMHeadModel, 6 layers, width 512, 8 heads, a 32,000-token
vocabulary by default) and runs training steps (forward, backward, AdamW update) or inference
requests (one forward pass over the prompt) on random token ids, printing one line per step that
Contention's default latency pattern reads: "step 12.345 ms" (from the step's start to
torch.cuda.synchronize() after it). Runs until SIGTERM or --steps. Exits with status 3 and says
why when torch, transformers or a CUDA device is missing.

    python3 scripts/gpt_torch.py --mode train --batch 8 --seq 256
"""
import argparse
import sys

from torch_tenant import need, run_steps


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", choices=["train", "infer"], default="train")
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--seq", type=int, default=256, help="tokens per sequence")
    parser.add_argument("--layers", type=int, default=6)
    parser.add_argument("--width", type=int, default=512)
    parser.add_argument("--heads", type=int, default=8)
    parser.add_argument("--vocab", type=int, default=32000)
    parser.add_argument("--steps", type=int, default=0, help="stop after this many steps (0: run until SIGTERM)")
    args = parser.parse_args()

    torch, transformers = need("torch", "transformers")
    torch.manual_seed(0)
    device = torch.device("cuda")
    config = transformers.GPT2Config(vocab_size=args.vocab, n_positions=max(args.seq, 64), n_embd=args.width, n_layer=args.layers, n_head=args.heads)
    model = transformers.GPT2LMHeadModel(config).to(device)
    tokens = torch.randint(0, args.vocab, (args.batch, args.seq)).pin_memory()
    if args.mode == "train":
        model.train()
        optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)
    else:
        model.eval()
    print(f"torch {torch.__version__}, {torch.cuda.get_device_name(0)}, gpt {args.layers}x{args.width}, {args.mode}, batch {args.batch}, seq {args.seq}", flush=True)

    def step():
        x = tokens.to(device, non_blocking=True)
        if args.mode == "train":
            optimizer.zero_grad(set_to_none=True)
            model(input_ids=x, labels=x).loss.backward()
            optimizer.step()
        else:
            with torch.inference_mode():
                model(input_ids=x)

    return run_steps(step, args.steps)


if __name__ == "__main__":
    sys.exit(main())
