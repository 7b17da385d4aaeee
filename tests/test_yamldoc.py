from premortem.parse.kubernetes import parse_manifest
from premortem.parse.yamldoc import load_all


def test_positions_are_one_based_for_values_and_keys():
    docs, err = load_all("a: 1\nb:\n  - x: yes\n    y: '3'\n")
    assert err is None
    d = docs[0]
    assert d.data == {"a": 1, "b": [{"x": True, "y": "3"}]}
    assert d.positions[("a",)] == (1, 4)
    assert d.key_positions[("b", 0, "y")] == (4, 5)
    assert d.positions[("b", 0, "y")] == (4, 8)


def test_duplicate_key_is_an_error_naming_both_lines():
    docs, err = load_all("a: 1\nb: 2\na: 3\n")
    assert err is not None and err.line == 3
    assert "duplicate key 'a'" in str(err) and "line 1" in str(err)


def test_tabs_get_a_clear_message():
    _, err = load_all("a:\n\tb: 1\n")
    assert err.line == 2 and "tab" in str(err)


def test_documents_before_an_error_are_kept():
    docs, err = load_all("a: 1\n---\nb: [\n")
    assert [d.data for d in docs] == [{"a": 1}]
    assert err is not None and err.line == 3  # the last line, where the list was left open


def test_no_object_construction():
    docs, err = load_all("a: !!python/object/apply:os.system ['echo pwned']\n")
    # the tag is kept as text data; nothing is constructed or executed
    assert err is None and docs[0].data == {"a": ["echo pwned"]}


def test_merge_keys_and_anchors():
    docs, _ = load_all("base: &b {x: 1, y: 2}\nd:\n  <<: *b\n  y: 3\n")
    assert docs[0].data["d"] == {"x": 1, "y": 3}
    assert docs[0].positions[("d",)] == (3, 3)


def test_list_kind_and_non_k8s_docs():
    text = """apiVersion: v1
kind: List
items:
  - apiVersion: v1
    kind: Service
    metadata: {name: a, namespace: prod}
  - apiVersion: v1
    kind: ConfigMap
    metadata: {name: b}
---
just: some yaml
---
apiVersion: example.com/v1
kind: Widget
metadata: {name: w}
"""
    resources, errors = parse_manifest(text, "x.yaml")
    assert not errors
    assert [(r.kind, r.name, r.namespace, r.line) for r in resources] == [
        ("Service", "a", "prod", 4), ("ConfigMap", "b", "", 7), ("Widget", "w", "", 13)]
    svc = resources[0]
    assert svc.locate(("metadata", "name")).line == 6
