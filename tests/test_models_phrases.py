"""Multi-phrase prompts: captions, token-to-phrase maps, box selection."""

from __future__ import annotations

import numpy as np
import pytest
from models_tiny import bert_tokenizer

from vidagent.errors import InputError
from vidagent.models.phrases import Caption, clean_phrases, group_phrases, nms_and_cap, select_boxes


def test_clean_phrases():
    assert clean_phrases("dog . red ball .") == ["dog", "red ball"]
    assert clean_phrases([" Dog ", "dog", "red  ball.", ""]) == ["Dog", "red ball"]
    with pytest.raises(InputError):
        clean_phrases([" . ", ""])


@pytest.mark.parametrize("sep", [". ", " . "])
def test_token_phrase_map_with_a_real_bert_tokenizer(sep):
    tok = bert_tokenizer()
    cap = Caption.build(["dog", "Red ball", "cats"], sep)
    assert cap.text == ("dog. red ball. cats." if sep == ". " else "dog . red ball . cats .")
    enc = tok(cap.text, return_offsets_mapping=True)
    tokens = tok.convert_ids_to_tokens(enc["input_ids"])
    assert tokens == ["[CLS]", "dog", ".", "red", "ball", ".", "cat", "##s", ".", "[SEP]"]
    assert cap.token_phrase(enc["offset_mapping"]).tolist() == [-1, 0, -1, 1, 1, -1, 2, 2, -1, -1]


def test_each_box_goes_to_the_phrase_whose_tokens_score_highest():
    # tokens: [CLS] dog . red ball . [SEP]
    token_phrase = np.array([-1, 0, -1, 1, 1, -1, -1])
    probs = np.zeros((4, 256), np.float32)
    probs[0, 1] = 0.9  # "dog"
    probs[1, 4] = 0.8  # "ball" -> "red ball"
    probs[1, 1] = 0.3
    probs[2, 3] = 0.2  # below the box threshold
    probs[3, 2] = 0.9  # only the "." token: no phrase passes the text threshold
    boxes = np.array([[0.5, 0.5, 0.2, 0.2]] * 4, np.float32)
    d = select_boxes(
        probs, boxes, token_phrase, ["dog", "red ball"], (100, 200), 0.35, 0.25, None, None
    )
    assert d.labels.tolist() == ["dog", "red ball"]
    np.testing.assert_allclose(d.scores, [0.9, 0.8])
    np.testing.assert_allclose(d.boxes[0], [80, 40, 120, 60])


def test_boxes_are_clipped_sorted_suppressed_and_capped():
    token_phrase = np.array([-1, 0, -1, 1, -1])
    probs = np.zeros((4, 8), np.float32)
    probs[:, 1] = [0.5, 0.9, 0.7, 0.0]
    probs[3, 3] = 0.6
    boxes = np.array(
        [[0.5, 0.5, 0.4, 0.4], [0.5, 0.5, 0.41, 0.41], [0.1, 0.1, 0.4, 0.4], [0.5, 0.5, 0.4, 0.4]],
        np.float32,
    )
    d = select_boxes(probs, boxes, token_phrase, ["dog", "cat"], (10, 10), 0.3, 0.25, None, 0.5)
    # the 0.5 dog box overlaps the 0.9 dog box and is suppressed; the cat box on the same spot stays
    assert d.labels.tolist() == ["dog", "dog", "cat"]
    np.testing.assert_allclose(d.scores, [0.9, 0.7, 0.6])
    assert (d.boxes >= 0).all() and (d.boxes <= 10).all()
    d2 = nms_and_cap(d, ["dog", "cat"], nms_iou=None, max_boxes=2)
    np.testing.assert_allclose(d2.scores, [0.9, 0.7])


def test_long_phrase_lists_are_split_into_captions_that_fit():
    tok = bert_tokenizer()
    phrases = [f"dog{i}" for i in range(100)]  # each: dog ##... -> several tokens
    groups = group_phrases(tok, phrases, 40)
    assert [p for g in groups for p in g] == phrases and len(groups) > 1
    for g in groups:
        assert len(tok(Caption.build(g, " . ").text)["input_ids"]) <= 40
