"""Tiny but real argos packages (.argosmodel), built offline for tests in about a second.

A SentencePiece model trained on a dozen sentences, and a one-layer CTranslate2
Transformer whose weights are set by hand: the encoder passes each token and its
position through unchanged; in the decoder, output step i attends to source position i
(queries and keys are the position one-hots) and emits that token, or a mapped one.
"copy" packages give back their input exactly; "upper" packages map every token to its
upper-case form when the vocabulary has one. The source's </s> also answers every query
a little, so a step past the end of the source (where no position matches) copies </s>:
every beam ends, as with a real model.

Use the `argos_packages` fixture (session-scoped, files cached):
    path = argos_packages("nl", "en", kind="upper", version="1.1")
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Literal

import numpy as np
import pytest
import sentencepiece as spm
from ctranslate2.specs import transformer_spec

Kind = Literal["copy", "upper"]
VOCAB_SIZE = 120
# Deliberately short, so tests can run past the position table.
POSITIONS = 64
SPECIALS = 3  # <unk>, <s>, </s>
EOS = 2
CORPUS = [
    "De klassenraad beslist over het attest.",
    "Het oudercontact is op maandag om negen uur.",
    "Wij helpen ouders met de studiekeuze van hun kind.",
    "Where is the school? The meeting is on Monday.",
    "Your child can choose a study field and a school.",
    "Lukio ja ammatillinen koulutus ovat vaihtoehtoja.",
    "Opinto-ohjaaja auttaa valinnassa, kysy häneltä!",
    "Hoe gaat het met je? Goed, dank je wel.",
    "Thank you for your question about the exam.",
    "ZX0Q ZX1Q ZX2Q ZX3Q ZX4Q ZX5Q ZX6Q ZX7Q ZX8Q ZX9Q",
    "Numbers 0 1 2 3 4 5 6 7 8 9, dates like 31/12/2026.",
    "Kun je de brief van de school lezen?",
]
NAMES = {"nl": "Dutch", "en": "English", "ar": "Arabic", "fi": "Finnish"}


def train_sentencepiece(path: Path) -> list[str]:
    """Train the shared SentencePiece model; return its vocabulary.

    Every piece's upper-case form is a piece too (added as a user-defined symbol and
    retrained until that holds), so the "upper" model can change every token.
    """
    missing: set[str] = set()
    for _ in range(5):
        model = io.BytesIO()
        spm.SentencePieceTrainer.train(
            sentence_iterator=iter(CORPUS + [s.upper() for s in CORPUS]), model_writer=model,
            vocab_size=VOCAB_SIZE + len(missing), model_type="bpe",
            normalization_rule_name="identity", character_coverage=1.0,
            hard_vocab_limit=False, user_defined_symbols=sorted(missing), num_threads=1,
            minloglevel=2)
        processor = spm.SentencePieceProcessor(model_proto=model.getvalue())
        vocab = [processor.id_to_piece(i) for i in range(processor.get_piece_size())]
        lacking = {piece.upper() for piece in vocab[SPECIALS:]} - set(vocab)
        if not lacking:
            path.write_bytes(model.getvalue())
            return vocab
        missing |= lacking
    raise AssertionError("the test vocabulary does not close under upper case")


def token_map(vocab: list[str], kind: Kind) -> np.ndarray:
    """Which output token each input token becomes."""
    if kind == "copy":
        return np.arange(len(vocab))
    index = {piece: i for i, piece in enumerate(vocab)}
    return np.array([i if i < SPECIALS else index.get(piece.upper(), i)
                     for i, piece in enumerate(vocab)])


def build_model(directory: Path, vocab: list[str], kind: Kind) -> None:
    """Write the CTranslate2 model (int8) into `directory`."""
    size = len(vocab)
    # The residual stream: [input token one-hot | position one-hot | output token one-hot]
    tokens_in, positions, tokens_out = 0, size, size + POSITIONS
    width = 2 * size + POSITIONS
    fallback = tokens_out  # a query/key dimension no position uses
    f32 = np.float32

    def zeros(*shape: int) -> np.ndarray:
        return np.zeros(shape, dtype=f32)

    def norm(layer: object) -> None:
        layer.gamma = np.ones(width, dtype=f32)  # type: ignore[attr-defined]
        layer.beta = zeros(width)  # type: ignore[attr-defined]

    def linear(layer: object, weight: np.ndarray) -> None:
        layer.weight = weight  # type: ignore[attr-defined]
        layer.bias = zeros(weight.shape[0])  # type: ignore[attr-defined]

    spec = transformer_spec.TransformerSpec.from_config(1, 1)
    embeddings = zeros(size, width)
    embeddings[np.arange(size), tokens_in + np.arange(size)] = 1
    position_table = zeros(POSITIONS, width)
    position_table[np.arange(POSITIONS), positions + np.arange(POSITIONS)] = 1
    for stack in (spec.encoder, spec.decoder):
        stack.scale_embeddings = False
        stack.position_encodings.encodings = position_table
        norm(stack.layer_norm)
        layer = stack.layer[0]
        # Self-attention and feed-forward add nothing: zero output weights.
        norm(layer.self_attention.layer_norm)
        linear(layer.self_attention.linear[0], zeros(3 * width, width))
        linear(layer.self_attention.linear[1], zeros(width, width))
        norm(layer.ffn.layer_norm)
        linear(layer.ffn.linear_0, zeros(width, width))
        linear(layer.ffn.linear_1, zeros(width, width))
    spec.encoder.embeddings[0].weight = embeddings
    spec.decoder.embeddings.weight = embeddings.copy()

    attention = spec.decoder.layer[0].attention
    norm(attention.layer_norm)
    query = zeros(width, width)
    query[positions + np.arange(POSITIONS), positions + np.arange(POSITIONS)] = 4
    linear(attention.linear[0], query)
    attention.linear[0].bias[fallback] = 20  # every query also asks for ...
    keys_values = zeros(2 * width, width)
    keys_values[positions + np.arange(POSITIONS), positions + np.arange(POSITIONS)] = 1
    keys_values[fallback, tokens_in + EOS] = 1  # ... the source </s>, more weakly
    keys_values[width + tokens_out + token_map(vocab, kind), tokens_in + np.arange(size)] = 1
    linear(attention.linear[1], keys_values)
    output = zeros(width, width)
    output[tokens_out + np.arange(size), tokens_out + np.arange(size)] = 1
    linear(attention.linear[2], output)

    projection = zeros(size, width)
    projection[np.arange(size), tokens_out + np.arange(size)] = 2
    linear(spec.decoder.projection, projection)

    spec.register_source_vocabulary(vocab)
    spec.register_target_vocabulary(vocab)
    spec.config.add_source_eos = True  # the copied </s> ends the output
    spec.validate()
    spec.optimize(quantization="int8")
    directory.mkdir(parents=True)
    spec.save(str(directory))


def build_package(destination: Path, sentencepiece_model: Path, vocab: list[str], source: str,
                  target: str, *, kind: Kind = "copy", version: str = "1.0") -> Path:
    """Build `translate-<source>_<target>-<version>.argosmodel` in `destination`."""
    folder = f"translate-{source}_{target}-{version.replace('.', '_')}"
    work = destination / f"{folder}-{kind}"
    build_model(work / "model", vocab, kind)
    metadata = {"package_version": version, "argos_version": "1.9", "type": "translate",
                "from_code": source, "from_name": NAMES.get(source, source),
                "to_code": target, "to_name": NAMES.get(target, target)}
    path = destination / f"{folder}-{kind}.argosmodel"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(f"{folder}/metadata.json", json.dumps(metadata))
        archive.write(sentencepiece_model, f"{folder}/sentencepiece.model")
        for file in sorted((work / "model").iterdir()):
            archive.write(file, f"{folder}/model/{file.name}")
    return path


ArgosPackages = Callable[..., Path]


@pytest.fixture(scope="session")
def argos_packages(tmp_path_factory: pytest.TempPathFactory) -> ArgosPackages:
    """A function (source, target, kind="copy", version="1.0") -> .argosmodel path."""
    root = tmp_path_factory.mktemp("argos-packages")
    sentencepiece_model = root / "sentencepiece.model"
    vocab = train_sentencepiece(sentencepiece_model)
    built: dict[tuple[str, str, str, str], Path] = {}

    def package(source: str, target: str, kind: Kind = "copy", version: str = "1.0") -> Path:
        key = (source, target, kind, version)
        if key not in built:
            built[key] = build_package(root, sentencepiece_model, vocab, source, target,
                                       kind=kind, version=version)
        return built[key]

    return package
