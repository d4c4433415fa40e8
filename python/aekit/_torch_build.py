"""aekit model descriptions -> torch.nn.Module: the one builder, used by
Model.to_torch (torch_bridge.py) and by the benchmarks (bench/torch_models.py,
bench/torch_encode.py, which load this file by its path: it imports only
torch, never the rest of the package or libaekit).

The network is built line for line from the description text
(docs/model-format.md): each section is an nn.Sequential, so the module's
state_dict names are aekit's tensor names (encoder.N.weight ...,
decoder.N.*, discriminator.N.*) and its shapes those of aekit's model
files.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

SECTIONS = ("encoder", "decoder", "discriminator")


class Sample(nn.Module):
    """aekit's `sample` layer: input = mean then LOG-VARIANCE; z = mu +
    exp(lv / 2) * eps. Keeps the heads of the last call for the KL term.
    eps: torch.randn_like when training; from self.generator when set
    (repeatable evaluation); z = mu otherwise (encode, reconstruct: aekit's
    deterministic path)."""

    def __init__(self, latent):
        super().__init__()
        self.latent = latent
        self.generator = None
        self.mu = self.lv = None

    def forward(self, h):
        L = self.latent
        mu, lv = h[:, :L], h[:, L:]
        self.mu, self.lv = mu, lv
        if self.training:
            eps = torch.randn_like(mu)
        elif self.generator is not None:
            eps = torch.randn(mu.shape, generator=self.generator)
        else:
            return mu
        return mu + torch.exp(0.5 * lv) * eps


class Condition(nn.Module):
    """aekit's `condition` layer: each image's class label, one-hot, appended
    to the input as `classes` more channels (a flat input: values; an image:
    constant planes). The labels of the next call are set beforehand
    (AekitNet.set_labels)."""

    def __init__(self, classes):
        super().__init__()
        self.classes = classes
        self.labels = None

    def forward(self, x):
        if self.labels is None:
            raise ValueError("a conditional model: call set_labels(labels) before the forward pass")
        onehot = F.one_hot(self.labels.long(), self.classes).to(x.dtype)
        if x.dim() == 4:
            onehot = onehot[:, :, None, None].expand(-1, -1, x.shape[2], x.shape[3])
        return torch.cat([x, onehot], 1)


def _out_len(n, k, stride, pad, ceil):
    span = n + 2 * pad - k
    if span < 0:
        raise ValueError(f"window {k} larger than the input {n}")
    return (-(-span // stride) if ceil else span // stride) + 1


def parse_description(text, latent=None):
    """aekit's model description format (docs/model-format.md) -> dict with
    input, output, loss, encoder / decoder / discriminator: lists of
    (kind, args, kwargs)."""
    params = {}
    d = {"loss": "bce", "encoder": [], "decoder": [], "discriminator": [], "output": None, "classes": 0}
    section = None
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if latent is not None:
            params["latent"] = latent
        if "latent" in params:
            line = line.replace("{latent2}", str(2 * params["latent"]))
            line = line.replace("{latent}", str(params["latent"]))
        words = line.split()
        kind, rest = words[0], words[1:]
        if kind == "param":
            if rest[0] == "latent" and latent is None:
                params["latent"] = int(rest[1])
            elif rest[0] == "classes":
                d["classes"] = int(rest[1])
        elif kind in ("input", "output"):
            d[kind] = tuple(int(v) for v in rest)
        elif kind == "loss":
            d["loss"] = rest[0]
        elif kind in SECTIONS:
            section = kind
        else:
            if section is None:
                raise ValueError(f"line {lineno}: layer '{kind}' before 'encoder'")
            args = [w for w in rest if "=" not in w]
            kw = dict(w.split("=", 1) for w in rest if "=" in w)
            d[section].append((kind, args, kw))
    if d["output"] is None:
        d["output"] = d["input"]
    return d


def build_section(layers, shape, classes=0):
    """(kind, args, kwargs) lines -> nn.Sequential and the output shape (C, H, W);
    `classes`: the description's `param classes N` (condition layers)."""
    c, h, w = shape
    mods = []
    for kind, args, kw in layers:
        if kind == "conv":
            out, k = int(args[0]), int(kw.get("k", 3))
            stride = int(kw.get("stride", 1))
            p = kw.get("pad", "same")
            pad = k // 2 if p == "same" else 0 if p == "valid" else int(p)
            mods.append(nn.Conv2d(c, out, k, stride, pad, bias=kw.get("bias", "1") != "0"))
            c, h, w = out, _out_len(h, k, stride, pad, False), _out_len(w, k, stride, pad, False)
        elif kind in ("maxpool", "avgpool"):
            k = int(args[0]) if args and args[0] != "ceil" else 2
            ceil = "ceil" in args
            mods.append(nn.MaxPool2d(k, ceil_mode=ceil) if kind == "maxpool"
                        else nn.AvgPool2d(k, ceil_mode=ceil))
            h, w = _out_len(h, k, k, 0, ceil), _out_len(w, k, k, 0, ceil)
        elif kind == "upsample":
            s = int(args[0]) if args else 2
            mods.append(nn.Upsample(scale_factor=s))
            h, w = h * s, w * s
        elif kind == "flatten":
            mods.append(nn.Flatten())
            c, h, w = c * h * w, 1, 1
        elif kind == "reshape":
            c, h, w = (int(v) for v in args)
            mods.append(nn.Unflatten(1, (c, h, w)))
        elif kind == "dense":
            out = int(args[0])
            mods.append(nn.Linear(c * h * w, out, bias=kw.get("bias", "1") != "0"))
            c, h, w = out, 1, 1
        elif kind == "relu":
            mods.append(nn.ReLU())
        elif kind == "sigmoid":
            mods.append(nn.Sigmoid())
        elif kind == "tanh":
            mods.append(nn.Tanh())
        elif kind == "leaky_relu":
            mods.append(nn.LeakyReLU(float(kw.get("slope", 0.2))))
        elif kind == "sample":
            mods.append(Sample(c // 2))
            c = c // 2
        elif kind == "condition":
            mods.append(Condition(classes))
            c = c + classes
        else:
            raise ValueError(f"layer '{kind}' has no PyTorch equivalent in aekit's builder")
    return nn.Sequential(*mods), (c, h, w)


class AekitNet(nn.Module):
    """An aekit model as PyTorch modules: encoder, decoder (and an
    adversarial autoencoder's discriminator) as nn.Sequential, named like
    aekit's tensors.

    forward(x) is aekit's reconstruct: the decoder's output (after its
    final sigmoid). In eval mode a VAE's `sample` layer passes z = mu, so
    forward is deterministic; in train mode it samples. encode(x) gives the
    codes flat, (N, latent), as aekit's encode; decode(z) takes them flat
    (or in the latent's shape). train_output(x) is what the loss reads:
    logits for BCE losses (computed from the logits, as aekit does), else
    the decoder's output. `description` is the text it was built from
    (aekit.from_torch builds the same model from it)."""

    def __init__(self, desc, description=None):
        super().__init__()
        self.desc = desc
        self.description = description
        classes = desc.get("classes", 0)
        self.encoder, zshape = build_section(desc["encoder"], desc["input"], classes)
        self.decoder, oshape = build_section(desc["decoder"], zshape, classes)
        if tuple(oshape) != tuple(desc["output"]):
            raise ValueError(f"the decoder ends with {oshape}, expected {desc['output']}")
        if desc.get("discriminator"):
            self.discriminator, _ = build_section(desc["discriminator"], zshape, classes)
        self.latent_shape = tuple(zshape)
        # the encoder's output is (N, latent) after flatten / dense / sample,
        # (N, C, H, W) otherwise: the decoder takes it as it comes
        self.latent_flat = False
        for m in self.encoder:
            if isinstance(m, (nn.Flatten, nn.Linear, Sample)):
                self.latent_flat = True
            elif isinstance(m, nn.Unflatten):
                self.latent_flat = False
        self.latent = zshape[0] * zshape[1] * zshape[2]
        self.loss = desc["loss"]
        self.__dict__["sample"] = next((m for m in self.encoder if isinstance(m, Sample)), None)
        last_sigmoid = len(self.decoder) and isinstance(self.decoder[-1], nn.Sigmoid)
        self.from_logits = self.loss in ("bce", "bce_sum")
        if self.from_logits and not last_sigmoid:
            raise ValueError("a BCE loss needs a final sigmoid")
        # the decoder without its sigmoid (same modules; not registered, so
        # the state dict keeps aekit's names only)
        self.__dict__["decoder_logits"] = nn.Sequential(*list(self.decoder)[:-1]) \
            if self.from_logits else self.decoder
        for m in self.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                nn.init.xavier_uniform_(m.weight)   # Glorot uniform, as aekit / Keras
                if m.bias is not None:
                    nn.init.zeros_(m.bias)

    @classmethod
    def from_text(cls, text, latent=None):
        return cls(parse_description(text, latent), text)

    def set_labels(self, labels):
        """A conditional model's labels for the next calls (a tensor of N
        class indices): every `condition` layer takes them."""
        for m in self.modules():
            if isinstance(m, Condition):
                m.labels = labels

    def forward(self, x):
        """The reconstruction (aekit's reconstruct)."""
        return self.decoder(self.encoder(x))

    def train_output(self, x):
        """The training output: logits for BCE losses, else the decoder's output."""
        return self.decoder_logits(self.encoder(x))

    def encode(self, x):
        """Codes (N, latent), as aekit's encode (a VAE's z_mean in eval mode)."""
        return self.encoder(x).reshape(x.shape[0], -1)

    def decode(self, z):
        """Images from codes (N, latent) or (N, C, H, W) of the latent's shape."""
        n = z.shape[0]
        return self.decoder(z.reshape(n, -1) if self.latent_flat else z.reshape((n,) + self.latent_shape))

    def denominator(self, n):
        out = self.desc["output"]
        per = out[0] * out[1] * out[2]
        return n * per if self.loss in ("bce", "mse") else n

    def loss_sum(self, out, target):
        """Summed reconstruction loss + KL of a batch, and the KL alone
        (out: train_output's)."""
        if self.from_logits:
            rec = F.binary_cross_entropy_with_logits(out, target, reduction="sum")
        else:
            rec = ((out - target) ** 2).sum()
        kl = out.new_zeros(())
        if self.sample is not None:
            mu, lv = self.sample.mu, self.sample.lv
            kl = -0.5 * (1 + lv - mu * mu - lv.exp()).sum()
        return rec + kl, kl
