#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""ResNet-50 with PyTorch as a Contention command tenant.

Runs training steps (forward, backward, SGD update) or inference requests (forward only) on
synthetic ImageNet-shaped data copied from page-locked host memory each step, and prints one line
per step that Contention's default latency pattern reads: "step 39.512 ms" (the time from the
step's start to torch.cuda.synchronize() after it). Runs until SIGTERM or --steps. Exits with
status 3 and says why when torch, torchvision or a CUDA device is missing.

    python3 scripts/resnet50_torch.py --mode train --batch 64
"""
import argparse
import sys

from torch_tenant import need, run_steps


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", choices=["train", "infer"], default="train")
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--steps", type=int, default=0, help="stop after this many steps (0: run until SIGTERM)")
    args = parser.parse_args()

    torch, torchvision = need("torch", "torchvision")
    device = torch.device("cuda")
    model = torchvision.models.resnet50(weights=None).to(device)
    images = torch.randn(args.batch, 3, 224, 224).pin_memory()
    labels = torch.randint(0, 1000, (args.batch,)).pin_memory()
    if args.mode == "train":
        model.train()
        optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
        loss_fn = torch.nn.CrossEntropyLoss()
    else:
        model.eval()
    print(f"torch {torch.__version__}, {torch.cuda.get_device_name(0)}, {args.mode}, batch {args.batch}", flush=True)

    def step():
        x = images.to(device, non_blocking=True)
        if args.mode == "train":
            y = labels.to(device, non_blocking=True)
            optimizer.zero_grad(set_to_none=True)
            loss_fn(model(x), y).backward()
            optimizer.step()
        else:
            with torch.inference_mode():
                model(x)

    return run_steps(step, args.steps)


if __name__ == "__main__":
    sys.exit(main())
