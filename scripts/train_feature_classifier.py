"""Train the small Fashion-MNIST classifier whose features feed FD and KID.

    python scripts/train_feature_classifier.py              # ~4 epochs, a few minutes on 2 cores
    python scripts/train_feature_classifier.py --resume     # continue an interrupted run

It trains on the full training split (found as ``minigen.data.FashionMNIST`` finds it),
reports the test accuracy, and writes the weights with ``mg.save`` to
``minigen/metrics/fashion_classifier.npz`` (``--export``), together with a ``meta``
record: test accuracy, epochs, seed, and the data used.
"""
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import minigen as mg                                   # noqa: E402
import minigen.functional as F                         # noqa: E402
from minigen.data import DataLoader, FashionMNIST, add_channel, to_unit   # noqa: E402
from minigen.metrics.classifier import WEIGHTS_PATH, build_classifier     # noqa: E402
from minigen.train import Loop, arg_parser             # noqa: E402


def accuracy(model, images, labels, device, batch_size=1000):
    """Fraction of ``images`` (uint8) classified correctly, in eval mode, without gradients."""
    model.eval()
    correct = 0
    with mg.no_grad():
        for start in range(0, len(images), batch_size):
            x = mg.tensor(add_channel(to_unit(images[start:start + batch_size])), device=device)
            correct += int((model(x).numpy().argmax(1) == labels[start:start + batch_size]).sum())
    model.train()
    return correct / len(images)


def main():
    parser = arg_parser(__doc__.splitlines()[0], epochs=4, batch_size=128, lr=1e-3,
                        out="runs/feature_classifier", checkpoint_every=500)
    parser.add_argument("--export", default=WEIGHTS_PATH, help="where to write the weights")
    args = parser.parse_args()

    mg.manual_seed(args.seed)
    train, test = FashionMNIST("train"), FashionMNIST("test")
    if train.is_embedded:
        print("warning: training on the small embedded subset; the shipped weights come "
              "from the full 60,000 images", file=sys.stderr)
    loader = DataLoader((add_channel(to_unit(train.images)), train.labels), args.batch_size,
                        shuffle=True, seed=args.seed, drop_last=True, device=args.device)
    model = build_classifier().to(args.device)
    opt = mg.optim.Adam(model.parameters(), lr=args.lr)

    started = time.time()
    loop = Loop(loader, args, state={"model": model, "optimizer": opt}, desc="classifier")
    for x, y in loop:
        logits = model(x)
        loss = F.cross_entropy(logits, y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        loop.log(loss=loss, train_acc=float((logits.numpy().argmax(1) == y.numpy()).mean()))
        if loop.every(len(loader)):                     # once per epoch
            loop.log(test_acc=accuracy(model, test.images, test.labels, args.device))

    test_acc = accuracy(model, test.images, test.labels, args.device)
    print(f"test accuracy {test_acc:.4f} ({len(test)} images, {time.time() - started:.0f} s)")
    model.eval()
    meta = {"test_accuracy": test_acc, "epochs": loop.epoch, "steps": loop.step,
            "seed": args.seed, "batch_size": args.batch_size, "lr": args.lr,
            "train_images": len(train),
            "script": "scripts/train_feature_classifier.py"}
    state = {k: np.asarray(v.numpy() if hasattr(v, "numpy") else v)
             for k, v in model.to("cpu").state_dict().items()}
    mg.save({"model": state, "meta": meta}, args.export)
    print(f"wrote {args.export} ({os.path.getsize(args.export) / 2**20:.2f} MiB)")


if __name__ == "__main__":
    main()
