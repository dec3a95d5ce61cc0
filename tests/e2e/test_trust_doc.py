"""gateway/TRUST.md's variant table and legend cannot drift: the table must
be scenarios/matrix.yaml (same modes, variants and cells), the legend must
name every reason the table uses, each with gateway/reason.c's text (which
tests/unit/test_reason.c holds to the spec's, byte for byte). Pure Python:
reads files."""
import re
from pathlib import Path

import yaml

import agwscenario as d

ROOT = Path(__file__).resolve().parents[2]
TRUST = ROOT / "gateway" / "TRUST.md"


def md_tables(text):
    """Every markdown table of text: [(header cells, [row cells])]."""
    out, cur = [], None
    for line in text.splitlines():
        if not line.startswith("|"):
            cur = None
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if cur is None:
            cur = (cells, [])
            out.append(cur)
        elif not all(re.fullmatch(r":?-+:?", c) for c in cells):
            cur[1].append(cells)
    return out


def trust_section():
    text = TRUST.read_text()
    a = text.index("## The variant table")
    b = text.index("\n## ", a + 1)
    return text[a:b]


def variant_table():
    tabs = [t for t in md_tables(trust_section()) if t[0][0] == "variant"]
    assert len(tabs) == 1, "TRUST.md: one table headed | variant | ..."
    return tabs[0]


def legend():
    tabs = [t for t in md_tables(trust_section()) if t[0][0] == "reason"]
    assert len(tabs) == 1, "TRUST.md: one legend table headed | reason | ..."
    out = {}
    for name, text in tabs[0][1]:
        name = name.strip("`")
        assert name not in out, f"TRUST.md legend: {name} twice"
        out[name] = text
    return out


def matrix():
    doc = yaml.safe_load((ROOT / "scenarios" / "matrix.yaml").read_text())
    modes, cells = d.expand_matrix(doc)
    return modes, list(doc["variants"]), {(v, m): c for v, m, c in cells}


def test_trust_doc_table_has_the_matrix_modes_and_variants_in_order():
    header, rows = variant_table()
    modes, variants, _ = matrix()
    assert [h.strip("`") for h in header[1:]] == list(modes)
    assert [r[0] for r in rows] == variants


def test_trust_doc_table_cells_equal_matrix_yaml():
    header, rows = variant_table()
    _, _, cells = matrix()
    modes = [h.strip("`") for h in header[1:]]
    diffs = []
    for row in rows:
        assert len(row) == len(header), f"TRUST.md row {row[0]}: " \
            f"{len(row)} cells for {len(header)} columns"
        for m, cell in zip(modes, row[1:]):
            want = cells.get((row[0], m))
            if want is None or d.parse_cell(cell) != want:
                diffs.append(f"{row[0]} x {m}: TRUST.md {cell!r}, "
                             f"matrix.yaml "
                             f"{d.cell_str(want) if want else 'none'!r}")
    assert not diffs, "TRUST.md differs from matrix.yaml:\n" + \
        "\n".join(diffs)


def test_trust_doc_legend_names_exactly_the_reasons_of_the_table():
    _, rows = variant_table()
    used = {d.parse_cell(c)["reason"] for r in rows for c in r[1:]}
    used.discard("ok")
    assert set(legend()) == used


def test_trust_doc_legend_texts_are_the_gateways():
    table = d.reason_table((ROOT / "gateway" / "reason.c").read_text())
    assert table, "no reason table read from gateway/reason.c"
    wrong = {n: t for n, t in legend().items() if table.get(n) != t}
    assert not wrong, "TRUST.md legend texts that are not reason.c's: " + \
        "; ".join(f"{n}: {t!r} (reason.c: {table.get(n)!r})"
                  for n, t in wrong.items())


def test_trust_doc_md_tables_reads_rows_and_skips_the_rule():
    text = "x\n| a | b |\n|---|:-:|\n| 1 | `2` |\n\n| c |\n|---|\n"
    assert md_tables(text) == [(["a", "b"], [["1", "`2`"]]), (["c"], [])]
