#!/usr/bin/env python3
"""Export torchvision's WideResNet-50-2 up to `layer2` (the paper's backbone) to ONNX.

The graph is conv1 -> bn1 -> relu -> maxpool -> layer1 -> layer2 (the reference code's
`Sequential(*list(wide_resnet50_2().children())[:6])`): input `input` [N,3,H,W] ImageNet-normalised
RGB, output `features` [N,512,ceil(H/8),ceil(W/8)], H and W dynamic. A sidecar manifest
`<out>.json` records what the pipeline needs to run it (stride, channels, normalisation) and the
file's sha256.

Usage (needs torch, torchvision and onnx; Debian: python3-torch python3-torchvision python3-onnx):
    python3 tools/export_wide_resnet.py --out models/wide_resnet50_2-layer2.onnx --weights imagenet
`--weights imagenet` downloads torchvision's IMAGENET1K_V1 weights (network access needed);
`--weights random` exports the same architecture with random weights, for testing the tooling.
"""
import argparse
import hashlib
import json
import os
import sys

import torch
import torchvision

MEAN = [0.485, 0.456, 0.406]
STD = [0.229, 0.224, 0.225]


def build(weights: str) -> torch.nn.Module:
    """WideResNet-50-2 truncated after layer2, in eval mode."""
    if weights == "imagenet":
        w = torchvision.models.Wide_ResNet50_2_Weights.IMAGENET1K_V1
        source = f"torchvision.models.wide_resnet50_2(weights={w}) truncated after layer2"
    else:
        w = None
        source = "torchvision.models.wide_resnet50_2(weights=None) truncated after layer2 (random weights)"
    net = torchvision.models.wide_resnet50_2(weights=w).eval()
    model = torch.nn.Sequential(*list(net.children())[:6]).eval()
    model.source = source  # type: ignore[attr-defined]
    return model


def sha256(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True, help="output .onnx path (manifest goes to <out>.json)")
    ap.add_argument("--weights", choices=["imagenet", "random"], default="imagenet")
    ap.add_argument("--opset", type=int, default=17)
    ap.add_argument("--seed", type=int, default=0, help="torch seed for --weights random")
    args = ap.parse_args()

    torch.manual_seed(args.seed)
    try:
        model = build(args.weights)
    except Exception as e:  # pretrained weights need network access
        print(f"export_wide_resnet.py: cannot build the model ({args.weights} weights): {e}", file=sys.stderr)
        return 1
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    dummy = torch.zeros(1, 3, 64, 64)
    with torch.no_grad():
        torch.onnx.export(
            model, dummy, args.out,
            input_names=["input"], output_names=["features"],
            dynamic_axes={"input": {0: "batch", 2: "height", 3: "width"},
                          "features": {0: "batch", 2: "fheight", 3: "fwidth"}},
            opset_version=args.opset, do_constant_folding=True,
        )
    import onnx  # validate what was written
    onnx.checker.check_model(onnx.load(args.out))

    manifest = {
        "file": os.path.basename(args.out),
        "input": "input",
        "output": "features",
        "stride": 8,
        "channels": 512,
        "mean": MEAN,
        "std": STD,
        # The pipeline's sidecar reader (src/features/manifest.ts) takes the nested form.
        "normalisation": {"mean": MEAN, "std": STD},
        "source": model.source,
        "licence": "torchvision code BSD-3-Clause; ImageNet weights: torchvision model-zoo terms"
        if args.weights == "imagenet" else "BSD-3-Clause (torchvision code; random weights, no trained parameters)",
        "sha256": sha256(args.out),
    }
    with open(args.out + ".json", "w") as f:
        json.dump(manifest, f, indent=2)
        f.write("\n")
    print(f"wrote {args.out} and {args.out}.json (sha256 {manifest['sha256'][:12]}...)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
