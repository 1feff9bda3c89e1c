"""The torchvision side of tests/nn/test_zoo.cpp: builds torchvision 0.14's ResNet-18/34 and
MobileNetV2 with fixed seeds and writes what Neurona's zoo must reproduce.

usage: /usr/bin/python3 zoo_torchvision.py OUT_DIR

For each case NAME of CASES:
  NAME.weights.safetensors  the model's state_dict in its own order (num_batches_tracked as I64),
                            with BatchNorm's weights and running statistics drawn at random, so
                            that each BatchNorm is told apart and eval mode is more than the identity
  NAME.io.safetensors       "input"; "eval" (the output in eval mode); "train" (in train mode);
                            "after.<key>" for every buffer after the train-mode forward (running
                            statistics); "grad.input" and "grad.<key>" for the first
                            convolution's and the last linear layer's weights: the gradients of
                            sum(output · "grad.output") in train mode, with every BatchNorm's
                            weight and bias set to the metadata's bn_weight and bn_bias first
  NAME.layers.json          [[path, class name, output shape, parameters], …] of every module
                            without children, in module order (the eval forward's output shapes)
params.json: {arch: parameter count} of the default models (1000 classes), and
init.json: {arch: {key: [mean, std, numel]}} of their freshly initialised state_dicts.
The reference runs in float64 (the weights are float32 values), so differences are Neurona's own.
"""
import json
import os
import struct
import sys

import torch
from torch import nn
import torchvision

# name, builder, keyword arguments, input channels, (first conv, last linear) keys
CASES = [
    ("resnet18", "resnet18", {}, 3, ("conv1.weight", "fc.weight")),
    ("resnet34", "resnet34", {}, 3, ("conv1.weight", "fc.weight")),
    ("mobilenet_v2", "mobilenet_v2", {}, 3, ("features.0.0.weight", "classifier.1.weight")),
    ("resnet18_gray", "resnet18", {}, 1, ("conv1.weight", "fc.weight")),
    ("mobilenet_v2_w035_gray", "mobilenet_v2", {"width_mult": 0.35}, 1,
     ("features.0.0.weight", "classifier.1.weight")),
]
NUM_CLASSES = 10
BATCH, SIZE = 2, 64
# The gradients are taken with every BatchNorm at 0.25·x̂ + 2, so that no ReLU (or ReLU6) input
# lies near 0 or 6: float32 rounding could otherwise switch a ReLU's gradient on in one library
# and off in the other (one such input within 1e-6 of 0 is likely among the ~10⁶ of a ResNet).
# The output is weighted at random: in train mode a plain sum(output) of a network ending in
# BatchNorm, pooling and a linear layer does not depend on the input once the ReLUs pass
# everything, since each channel's BatchNorm outputs sum to a constant over the batch.
BN_WEIGHT, BN_BIAS = 0.25, 2.0


def write_safetensors(path, tensors, metadata=None):
    """tensors: name -> tensor, written in this order; int64 as I64, the rest as F32."""
    header, blobs, offset = ({"__metadata__": metadata} if metadata else {}), [], 0
    for name, t in tensors.items():
        t = t.detach().contiguous()
        integer = t.dtype == torch.int64
        data = (t if integer else t.to(torch.float32)).numpy().tobytes()
        header[name] = {"dtype": "I64" if integer else "F32", "shape": list(t.shape),
                        "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)


def build(builder, kwargs, in_channels, num_classes):
    model = getattr(torchvision.models, builder)(num_classes=num_classes, **kwargs)
    if in_channels != 3:  # the first convolution on other images, initialised as torchvision's
        if builder.startswith("resnet"):
            model.conv1 = nn.Conv2d(in_channels, 64, 7, 2, 3, bias=False)
            first = model.conv1
        else:
            old = model.features[0][0]
            model.features[0][0] = nn.Conv2d(in_channels, old.out_channels, 3, 2, 1, bias=False)
            first = model.features[0][0]
        nn.init.kaiming_normal_(first.weight, mode="fan_out", nonlinearity="relu")
    return model


def main(out):
    os.makedirs(out, exist_ok=True)
    for name, builder, kwargs, in_channels, (first, last) in CASES:
        torch.manual_seed(0)
        # dropout 0 so that the train-mode output is deterministic (the state_dict is the same)
        extra = {"dropout": 0.0} if builder == "mobilenet_v2" else {}
        model = build(builder, {**kwargs, **extra}, in_channels, NUM_CLASSES)
        with torch.no_grad():
            for m in model.modules():
                if isinstance(m, nn.BatchNorm2d):
                    m.weight.uniform_(0.5, 1.5)
                    m.bias.normal_(0, 0.1)
                    m.running_mean.normal_(0, 0.1)
                    m.running_var.uniform_(0.5, 1.5)
                    m.num_batches_tracked.fill_(3)
        write_safetensors(os.path.join(out, name + ".weights.safetensors"), model.state_dict())

        x = torch.randn(BATCH, in_channels, SIZE, SIZE)
        model = model.double()
        io = {"input": x}
        model.eval()
        layers, hooks = [], []
        for path, m in model.named_modules():
            if not list(m.children()):
                row = [path, type(m).__name__, None, sum(p.numel() for p in m.parameters())]
                layers.append(row)
                hooks.append(m.register_forward_hook(lambda m, i, o, row=row: row.__setitem__(2, list(o.shape))))
        with torch.no_grad():
            io["eval"] = model(x.double())
        for h in hooks:
            h.remove()
        with open(os.path.join(out, name + ".layers.json"), "w") as f:
            json.dump(layers, f)
        model.train()
        with torch.no_grad():
            io["train"] = model(x.double())
        for k, v in model.named_buffers():
            io["after." + k] = v.clone()

        with torch.no_grad():
            for m in model.modules():
                if isinstance(m, nn.BatchNorm2d):
                    m.weight.fill_(BN_WEIGHT)
                    m.bias.fill_(BN_BIAS)
        weights = torch.randn(BATCH, NUM_CLASSES)
        xd = x.double().requires_grad_(True)
        (model(xd) * weights.double()).sum().backward()
        params = dict(model.named_parameters())
        io["grad.output"] = weights
        io["grad.input"] = xd.grad
        io["grad." + first] = params[first].grad
        io["grad." + last] = params[last].grad
        write_safetensors(os.path.join(out, name + ".io.safetensors"), io,
                          {"bn_weight": repr(BN_WEIGHT), "bn_bias": repr(BN_BIAS)})

    counts, init = {}, {}
    for arch in ("resnet18", "resnet34", "mobilenet_v2"):
        torch.manual_seed(0)
        model = getattr(torchvision.models, arch)()
        counts[arch] = sum(p.numel() for p in model.parameters())
        if arch != "resnet34":
            init[arch] = {k: [v.double().mean().item(), v.double().std(unbiased=False).item(), v.numel()]
                          for k, v in model.state_dict().items()}
    with open(os.path.join(out, "params.json"), "w") as f:
        json.dump(counts, f)
    with open(os.path.join(out, "init.json"), "w") as f:
        json.dump(init, f)


if __name__ == "__main__":
    main(sys.argv[1])
