"""A synthetic labelled text corpus whose class-conditional structure is known exactly.

Introduced in the chapter "Precision lower bound", where a Transformer is trained on it and
its accuracy is compared with the best accuracy any classifier can reach.

Generative process (fixed; ``seed`` only drives the sampling):

1. The vocabulary is shared: :data:`FILLER_WORDS` (function words) followed by the keywords
   of all four topics (:data:`TOPIC_KEYWORDS`, 20 per topic), 110 words in all.
2. A document's label ``y`` is uniform over the four topics (the splits are exactly balanced
   and shuffled, so each document's label is still uniform on its own).
3. Its length ``L`` is uniform on ``MIN_LENGTH .. MAX_LENGTH`` words, independent of ``y``.
4. Its words are drawn i.i.d. from the topic's distribution ``p_y``:
   with probability ``FILLER_RATE`` a filler word (Zipf weights ``1/r`` over the filler list),
   else a keyword, which with probability ``1 - LEAK`` comes from the topic's own list (Zipf
   weights ``1/r``) and with probability ``LEAK`` is uniform over *all* keywords.
5. The text is the words joined by single spaces (lower case, no punctuation).

Because words are i.i.d. given the label and the length does not depend on it, the
Bayes-optimal classifier is ``argmax_k sum_i log p_k(w_i)`` (uniform prior), available as
:meth:`TopicModel.bayes_predict`; its accuracy on a split estimates the Bayes-optimal
accuracy, the ceiling for any model. Short documents are the hard ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from ._base import Split

TOPIC_NAMES = ("sports", "science", "business", "politics")
TOPIC_KEYWORDS = {
    "sports": (
        "match", "team", "goal", "season", "coach", "league", "player", "score", "win",
        "cup", "stadium", "fans", "striker", "final", "tournament", "medal", "race",
        "champion", "defence", "referee",
    ),
    "science": (
        "study", "cell", "energy", "research", "data", "species", "planet", "experiment",
        "theory", "gene", "climate", "physics", "telescope", "molecule", "brain", "lab",
        "particle", "fossil", "orbit", "protein",
    ),
    "business": (
        "market", "shares", "company", "profit", "bank", "price", "investors", "sales",
        "growth", "deal", "stock", "revenue", "economy", "merger", "trade", "oil", "rates",
        "quarter", "earnings", "firm",
    ),
    "politics": (
        "government", "election", "minister", "vote", "party", "president", "law",
        "parliament", "campaign", "policy", "senate", "reform", "leader", "court",
        "treaty", "talks", "opposition", "budget", "council", "rebels",
    ),
}  # fmt: skip
FILLER_WORDS = (
    "the", "a", "of", "to", "and", "in", "on", "for", "is", "was", "with", "by", "at", "as",
    "after", "new", "said", "from", "that", "its", "it", "over", "will", "has", "more", "than",
    "up", "but", "this", "an",
)  # fmt: skip

#: Share of filler words in a document.
FILLER_RATE = 0.6
#: Share of keywords drawn uniformly from all topics instead of the document's own topic.
LEAK = 0.4
#: Document lengths, in words (inclusive).
MIN_LENGTH, MAX_LENGTH = 4, 24


def _zipf(size: int) -> np.ndarray:
    weights = 1.0 / np.arange(1, size + 1)
    return weights / weights.sum()


@dataclass(frozen=True, eq=False)
class TopicModel:
    """The exact generative model of the ``topics`` corpus.

    Attributes
    ----------
    vocabulary : tuple of str
        Shared vocabulary: filler words, then each topic's keywords.
    class_names : tuple of str
        Topic names, indexed by label.
    word_probs : numpy.ndarray, shape (n_classes, len(vocabulary))
        ``word_probs[k, j]`` is the probability that a word of a topic-``k`` document is
        ``vocabulary[j]``; each row sums to 1 and every entry is > 0.
    min_length, max_length : int
        Document lengths are uniform on this inclusive range.
    """

    vocabulary: tuple
    class_names: tuple
    word_probs: np.ndarray
    min_length: int
    max_length: int

    def log_likelihoods(self, texts) -> np.ndarray:
        """Return ``log p(text | k)`` for each text and topic, shape ``(len(texts), n_classes)``.

        The length term is omitted: it is the same for every topic. Words outside the
        vocabulary raise ValueError.
        """
        index = {word: j for j, word in enumerate(self.vocabulary)}
        log_probs = np.log(self.word_probs)
        out = np.zeros((len(texts), len(self.class_names)))
        for row, text in enumerate(texts):
            try:
                ids = [index[word] for word in text.split()]
            except KeyError as error:
                raise ValueError(f"text {row} has a word outside the vocabulary: {error}") from None
            out[row] = log_probs[:, ids].sum(axis=1)
        return out

    def bayes_predict(self, texts) -> np.ndarray:
        """Bayes-optimal labels (uniform prior; ties go to the lowest label), int64."""
        return np.argmax(self.log_likelihoods(texts), axis=1).astype(np.int64)

    def bayes_accuracy(self, split: Split) -> float:
        """Accuracy of the Bayes-optimal classifier on ``split``: the best reachable, estimated."""
        if len(split) == 0:
            return float("nan")
        return float(np.mean(self.bayes_predict(split.inputs) == split.labels))


@lru_cache(maxsize=1)
def topics_model() -> TopicModel:
    """Return the (fixed) generative model of the ``topics`` corpus."""
    keywords = [word for name in TOPIC_NAMES for word in TOPIC_KEYWORDS[name]]
    vocabulary = FILLER_WORDS + tuple(keywords)
    n_filler, n_keywords = len(FILLER_WORDS), len(keywords)
    per_topic = len(TOPIC_KEYWORDS[TOPIC_NAMES[0]])
    probs = np.zeros((len(TOPIC_NAMES), len(vocabulary)))
    for k in range(len(TOPIC_NAMES)):
        probs[k, :n_filler] = FILLER_RATE * _zipf(n_filler)
        keyword_probs = np.full(n_keywords, LEAK / n_keywords)
        keyword_probs[k * per_topic : (k + 1) * per_topic] += (1 - LEAK) * _zipf(per_topic)
        probs[k, n_filler:] = (1 - FILLER_RATE) * keyword_probs
    probs.setflags(write=False)
    return TopicModel(vocabulary, TOPIC_NAMES, probs, MIN_LENGTH, MAX_LENGTH)


def sample_topics(n: int, rng: np.random.Generator) -> Split:
    """Draw ``n`` documents (balanced labels, shuffled) from :func:`topics_model`."""
    model = topics_model()
    n_classes = len(model.class_names)
    labels = rng.permutation(np.arange(n) % n_classes).astype(np.int64)
    lengths = rng.integers(model.min_length, model.max_length + 1, size=n)
    token_labels = np.repeat(labels, lengths)
    uniforms = rng.random(len(token_labels))
    tokens = np.empty(len(token_labels), dtype=np.int64)
    cdf = np.cumsum(model.word_probs, axis=1)
    cdf[:, -1] = 1.0
    for k in range(n_classes):
        mask = token_labels == k
        tokens[mask] = np.searchsorted(cdf[k], uniforms[mask], side="right")
    words = np.asarray(model.vocabulary, dtype=object)[tokens]
    ends = np.cumsum(lengths)
    texts = [" ".join(words[end - length : end]) for end, length in zip(ends, lengths, strict=True)]
    return Split(texts, labels)
