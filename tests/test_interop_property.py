"""Property: a project exported as .qdpx and imported into a fresh project gives back the same
documents, codes and every span of every coder, whatever the text (accents, emoji, CJK)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qualcode.codebook import default_codebook_path, load_codebook
from qualcode.coding.project import import_codings
from qualcode.ingest import ingest
from qualcode.interop.export import export_qdpx
from qualcode.interop.qdpx import import_qdpx
from qualcode.store import create_project

WORDS = ["we", "pooled", "budget", "café", "naïve", "😀", "日本", "trust", "GP", "—", "x"]
CODES = ["financial.budget_constraints", "status.tokenism", "structural.coterminous"]
BOOK = load_codebook(default_codebook_path())

turn = st.lists(st.sampled_from(WORDS), min_size=2, max_size=12).map(" ".join)
spans = st.lists(
    st.tuples(st.integers(0, 10), st.floats(0, 1), st.floats(0, 1), st.sampled_from(CODES)),
    min_size=1,
    max_size=8,
)


def _store_spans(store) -> dict[str, set[tuple]]:
    out: dict[str, set[tuple]] = {}
    for r in store.execute(
        'SELECT k.name, d.text, x.code, p.start, p."end" FROM coding_spans p'
        " JOIN coders k ON k.id = p.coder_id JOIN documents d ON d.id = p.document_id"
        " JOIN codes x ON x.id = p.code_id"
    ):
        out.setdefault(r[0], set()).add((r[1], r[2], r[3], r[4]))
    return out


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(turns=st.lists(turn, min_size=2, max_size=6), a=spans, b=spans)
def test_qdpx_round_trip_keeps_documents_codes_and_spans(turns, a, b):
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        text = "".join(f"Interviewer: and then?\n\nJo: {t}\n\n" for t in turns)
        (folder / "doc.txt").write_text(text, encoding="utf-8")
        store = create_project(folder / "a.db")
        ingest(store, [folder / "doc.txt"], site="north")
        segments = store.execute(
            'SELECT start, "end" FROM segments WHERE is_interviewer = 0 ORDER BY start'
        ).fetchall()
        for coder, drawn in (("a", a), ("b", b)):
            lines = ["document,start,end,code"]
            for index, x, y, code in drawn:
                s, e = segments[index % len(segments)]
                lo, hi = sorted((s + int(x * (e - s)), s + int(y * (e - s))))
                lines.append(f"doc.txt,{lo},{max(hi, lo + 1)},{code}")
            (folder / f"{coder}.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
            import_codings(store, folder / f"{coder}.csv", coder, BOOK)
        export_qdpx(store, folder / "out.qdpx", BOOK)
        fresh = create_project(folder / "b.db")
        import_qdpx(fresh, folder / "out.qdpx")
        document = "SELECT path, site, text FROM documents"
        assert fresh.execute(document).fetchall() == store.execute(document).fetchall()
        assert _store_spans(fresh) == _store_spans(store)
        codebooks = "SELECT hash FROM codebooks"
        assert fresh.execute(codebooks).fetchall() == store.execute(codebooks).fetchall()
        store.close()
        fresh.close()
