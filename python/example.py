"""Modular addition mod 53 from Python: train until the model groks, then the seeds' findings.

    make python && /usr/bin/python3 python/example.py

The model is seed 000's with smaller widths (d_model 64, d_mlp 256) and 40% of the pairs for
training at lr 3e-3, so that it groks in about 2,000 epochs, under a minute on 2 cores; the
canonical run (p = 113, d_model 128, 30%, lr 1e-3) takes 25,000 epochs.
"""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import numpy as np  # noqa: E402

import grokh  # noqa: E402

P = 53
grokh.threads_set(0)  # GROK_THREADS, else every CPU

train, test = grokh.modadd_task(P, frac_train=0.4, data_seed=598)
config = grokh.modadd_config(P, d_model=64, d_head=16, d_mlp=256)
print("p = %d: %d training pairs, %d test pairs; %s" % (P, len(train), len(test), dict(config)))

with grokh.Model(config, max_batch=len(train)) as model:
    model.set_adamw(lr=3e-3)
    milestones = {}
    start = time.time()

    def on_eval(epoch, m):
        # The first epoch each milestone is reached: memorised (train 100%), then grokked (test 99%).
        if m["train_acc"] >= 1.0 and "memorised" not in milestones:
            milestones["memorised"] = epoch
            print("epoch %5d: memorised (train acc 100%%, test acc %.1f%%)" % (epoch, 100 * m["test_acc"]))
        if m["test_acc"] >= 0.99:
            milestones["grokked"] = epoch
            print("epoch %5d: grokked (test acc %.2f%%, test loss %.2e) after %.1f s"
                  % (epoch, 100 * m["test_acc"], m["test_loss"], time.time() - start))
            return True  # stop here
        return False

    model.train(train, test, epochs=10000, eval_every=50, on_eval=on_eval)
    if "grokked" not in milestones:
        print("did not grok in %d epochs (test acc %.1f%%)" % (model.epoch, 100 * model.metrics["test_acc"]))

    # Key frequencies: the Fourier components of the embedding that carry its norm (seed 004).
    norms = grokh.fourier_norms(model["embed.W_E"], P)
    freqs, shares, _ = grokh.key_freqs(norms, min_share=0.05)
    print("key frequencies of W_E: %s" % ", ".join("%d (%.1f%%)" % (k, 100 * s) for k, s in zip(freqs, shares)))
    print("their share of W_E's non-constant Fourier norm: %.1f%%" % (100 * shares.sum()))

    # Neuron clusters: each MLP neuron's dominant 2-D frequency over all p*p inputs.
    run = model.modadd_run()
    neuron_freq, frac = grokh.neuron_freqs(run["acts"], P, min_frac=0.85)
    ks, counts = np.unique(neuron_freq, return_counts=True)
    print("neuron clusters (frequency: neurons): %s" % ", ".join(
        "%s: %d" % ("none" if k < 0 else k, c) for k, c in zip(ks, counts)))
    print("mean fraction of a clustered neuron's variance in its frequency: %.3f" % frac[neuron_freq >= 0].mean())

    # Restricted loss (only the key frequencies' directions kept) and excluded loss (them removed,
    # on the training pairs): low and high respectively once the model uses those frequencies.
    full_loss = model.evaluate(test)[0]
    restricted, excluded = grokh.modadd_restricted(run["logits"], P, freqs, train_rows=grokh.pair_rows(train, P))
    print("test loss %.3e, restricted loss %.3e, excluded loss %.3f" % (full_loss, restricted, excluded))
