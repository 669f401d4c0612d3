"""Latent Dirichlet Allocation finds the ten bar topics of the synthetic "bars" corpus (L6.2).

    python demos/classic_latent_dirichlet.py [--out out/classic/latent_dirichlet] [--seed 0] [--n-docs 500]

The vocabulary is the 25 pixels of a 5x5 grid; the ten true topics are its five rows and
five columns (each uniform over its 5 words). Every document mixes a few bars
(theta ~ Dirichlet(0.5)) and draws 100 words, so shown as a 5x5 count image it looks like
a noisy superposition of bars. LDA (variational EM) sees only the word counts. Prints how
close each learned topic is to its bar and the held-out perplexity against the unigram
baseline. Writes:

  documents.png   some training documents as 5x5 count images
  topics.png      the true bars and the learned topics (matched to the bars)
  elbo.png        the evidence lower bound per word over EM sweeps
  theta.png       true vs inferred topic proportions of held-out documents
"""
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from classic_common import positive_int_arg, parser, plt, report, save_figure  # noqa: E402

from minigen.models.classic import (LatentDirichletAllocation, make_bars_corpus,  # noqa: E402
                                    match_topics, split_documents, unigram_perplexity)


def image_row(axes, images, titles, cmap="viridis"):
    for ax, img, title in zip(axes, images, titles):
        ax.imshow(img.reshape(5, 5), cmap=cmap, interpolation="nearest")
        ax.set_title(title, fontsize=8)
        ax.set_xticks([])
        ax.set_yticks([])


def build_parser():
    p = parser(__doc__.splitlines()[0], out="out/classic/latent_dirichlet")
    p.add_argument("--n-docs", type=positive_int_arg, default=500, help="training documents")
    p.add_argument("--doc-length", type=positive_int_arg, default=100, help="words per document")
    p.add_argument("--n-init", type=positive_int_arg, default=3, help="variational EM restarts (best ELBO kept)")
    return p


def main(argv=None):
    args = build_parser().parse_args(argv)
    t0 = time.time()
    X, topics, theta = make_bars_corpus(args.n_docs, args.doc_length, random_state=args.seed)
    X_test, _, theta_test = make_bars_corpus(200, args.doc_length, random_state=args.seed + 1)
    print(f"bars corpus: {len(X)} training / {len(X_test)} held-out documents of {args.doc_length} "
          f"words over a 25-word vocabulary")

    lda = LatentDirichletAllocation(n_topics=10, n_init=args.n_init, random_state=args.seed).fit(X)
    order, dist = match_topics(lda.topic_word_, topics)
    print(f"variational EM: {lda.n_iter_} sweeps (best of {args.n_init} restarts), "
          f"ELBO {lda.elbo_[-1]:.4f} nats/word")
    names = [f"row {i}" for i in range(5)] + [f"column {i}" for i in range(5)]
    print("learned topic matched to each bar, L1 distance (0 = identical, 2 = disjoint):")
    for i, name in enumerate(names):
        print(f"  {name:>8}: topic {order[i]}  distance {dist[i]:.3f}")
    found = int(np.sum(dist < 0.5))
    print(f"bars found (distance < 0.5): {found} of 10")

    observed, heldout = split_documents(X_test, 0.5, random_state=args.seed)
    comp = lda.completion_perplexity(observed, heldout)
    uni = unigram_perplexity(X, heldout)
    bound = lda.perplexity(X_test)
    # the best possible: the true topics and each document's true mixture
    oracle = np.exp(-np.sum(heldout * np.log(theta_test @ topics + 1e-300)) / heldout.sum())
    print("\nheld-out perplexity per word (lower is better; 25 = uniform over the vocabulary):")
    print(f"  unigram baseline (one word distribution for all documents): {uni:.2f}")
    print(f"  LDA, document completion (theta from half the words, scored on the other half): {comp:.2f}")
    print(f"  LDA, ELBO bound on whole held-out documents (an upper bound): {bound:.2f}")
    print(f"  oracle (true topics and true theta of each document): {oracle:.2f}")

    paths = []
    fig, axes = plt.subplots(2, 8, figsize=(11, 3.2))
    image_row(axes.ravel(), X[:16], [f"doc {i}" for i in range(16)])
    fig.suptitle("training documents: word counts on the 5x5 vocabulary")
    paths.append(save_figure(fig, os.path.join(args.out, "documents.png")))

    fig, axes = plt.subplots(2, 10, figsize=(13, 3.4))
    image_row(axes[0], topics, names, cmap="gray")
    image_row(axes[1], lda.topic_word_[order], [f"d = {d:.2f}" for d in dist], cmap="gray")
    axes[0, 0].set_ylabel("true", fontsize=9)
    axes[1, 0].set_ylabel("learned", fontsize=9)
    fig.suptitle("the ten bar topics and the LDA topics matched to them (L1 distance)")
    paths.append(save_figure(fig, os.path.join(args.out, "topics.png")))

    fig, ax = plt.subplots(figsize=(5.5, 3.5))
    ax.plot(np.arange(1, len(lda.elbo_) + 1), lda.elbo_)
    ax.set(xlabel="EM sweep", ylabel="ELBO per word (nats)", title="variational EM")
    paths.append(save_figure(fig, os.path.join(args.out, "elbo.png")))

    inferred = lda.transform(X_test)[:, order]                # columns in the order of the bars
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.2), sharey=True)
    for ax, T, title in zip(axes, (theta_test[:12], inferred[:12]), ("true theta", "inferred theta")):
        ax.imshow(T, cmap="Blues", vmin=0, vmax=1, aspect="auto")
        ax.set_xticks(range(10), names, rotation=60, fontsize=7)
        ax.set_title(title)
    axes[0].set_ylabel("held-out document")
    fig.tight_layout()
    paths.append(save_figure(fig, os.path.join(args.out, "theta.png")))
    print(f"done in {time.time() - t0:.1f}s")
    results = {"found": found, "completion_perplexity": comp, "unigram_perplexity": uni, "settings": vars(args)}
    report(args.out, results, paths)
    return {**results, "paths": paths}


if __name__ == "__main__":
    main()
