"""aekit.train: training from Python with the command line's options.

(Filled in by the training step of issue 11.)"""


def train(*args, **kwargs):
    raise NotImplementedError("aekit.train: not built yet")
