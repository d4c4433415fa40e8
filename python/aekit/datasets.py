"""aekit.datasets.load: data sets as NumPy arrays, found as the CLI finds them.

(Filled in by the inference step of issue 11.)"""


def load(name):
    raise NotImplementedError("aekit.datasets.load: not built yet")
