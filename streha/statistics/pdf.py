"""The national annual report as a PDF: every published table with its chart and definition.

Made from the same ``PublishedTable`` objects as the pages and files (small cells already
suppressed), in the language active when it is called. fpdf2 writes it in pure Python; the
font is DejaVu Sans Condensed, shipped in ``fonts/`` with its licence, so Albanian (ë, ç) and
Serbian Latin (č, ć, š, ž, đ) render without any system font and nothing is downloaded.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from django.utils.formats import date_format
from django.utils.translation import gettext as _

from streha.statistics.publication import CONFIDENTIAL, PublishedTable, min_cell

FONTS = Path(__file__).resolve().parent / "fonts"
FONT = "DejaVu"
BAR_COLOUR = (47, 102, 144)
LANGUAGES = ("sq", "sr-latn", "en")


def _document():
    from fpdf import FPDF

    pdf = FPDF(orientation="landscape", unit="mm", format="A4")
    pdf.set_auto_page_break(auto=True, margin=14)
    pdf.add_font(FONT, "", str(FONTS / "DejaVuSansCondensed.ttf"))
    pdf.add_font(FONT, "B", str(FONTS / "DejaVuSansCondensed-Bold.ttf"))
    pdf.set_creator("Streha")
    return pdf


def _heading(pdf, text: str, size: int) -> None:
    pdf.set_font(FONT, "B", size)
    pdf.multi_cell(0, size * 0.5, text, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)


def _paragraph(pdf, text: str, size: int = 9) -> None:
    pdf.set_font(FONT, "", size)
    pdf.multi_cell(0, size * 0.45, text, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(1)


def _lines(pdf, text: str, width: float) -> list[str]:
    """``text`` broken into lines that fit ``width`` (fpdf2's line breaking only when needed:
    it is the slow part of a table)."""
    if pdf.get_string_width(text) <= width - 2:
        return [text]
    return pdf.multi_cell(width, 1, text, dry_run=True, output="LINES", padding=(0, 1))


def _row(pdf, cells: list[str], widths: list[float], size: float, *, bold: bool) -> bool:
    """One row of bordered cells, as tall as its longest wrapped cell; False if it did not
    fit on the page (the caller starts a new page and repeats the header)."""
    pdf.set_font(FONT, "B" if bold else "", size)
    line = size * 0.45
    wrapped = [_lines(pdf, text, width) for text, width in zip(cells, widths, strict=True)]
    height = max(len(lines) for lines in wrapped) * line + 1
    if pdf.will_page_break(height):
        return False
    left, top = pdf.l_margin, pdf.get_y()
    x = left
    for i, (lines, width) in enumerate(zip(wrapped, widths, strict=True)):
        pdf.rect(x, top, width, height)
        for j, text in enumerate(lines):
            pdf.set_xy(x, top + 0.5 + j * line)
            pdf.cell(width, line, text, align="L" if i == 0 else "R")
        x += width
    pdf.set_xy(left, top + height)
    return True


def _table(pdf, published: PublishedTable) -> None:
    """The published cells as a bordered table (header repeated on each new page)."""
    columns = len(published.header)
    size = 8 if columns <= 8 else (6.5 if columns <= 12 else 5.5)
    first = min(70, pdf.epw * 0.3)
    widths = [first, *([(pdf.epw - first) / max(1, columns - 1)] * (columns - 1))]
    header = [str(text) for text in published.header]
    if not _row(pdf, header, widths, size, bold=True):
        pdf.add_page()
        _row(pdf, header, widths, size, bold=True)
    for row in published.rows:
        cells = [str(cell) for cell in row]
        if not _row(pdf, cells, widths, size, bold=False):
            pdf.add_page()
            _row(pdf, header, widths, size, bold=True)
            _row(pdf, cells, widths, size, bold=False)
    pdf.ln(2)


def _chart(pdf, published: PublishedTable) -> None:
    """Row totals as horizontal bars; a hidden total has no bar (the chart never shows what the
    table withholds)."""
    bars = [(str(row[0]), row[published.chart_column]) for row in published.body]
    largest = max((v for _label, v in bars if isinstance(v, int)), default=0)
    if not largest:
        return
    pdf.set_font(FONT, "", 7)
    height = 4.2
    if pdf.will_page_break(height * len(bars) + 8):
        pdf.add_page()
    _paragraph(pdf, _("Totals by row"), 8)
    left, label_width, bar_width = pdf.l_margin, 80, 120
    for label, value in bars:
        y = pdf.get_y()
        pdf.set_xy(left, y)
        pdf.cell(label_width, height, label[:60])
        if isinstance(value, int) and value:
            pdf.set_fill_color(*BAR_COLOUR)
            pdf.rect(left + label_width, y + 0.6, bar_width * value / largest, height - 1.2, "F")
        pdf.set_xy(left + label_width + bar_width + 2, y)
        pdf.cell(20, height, str(value))
        pdf.set_y(y + height)
    pdf.ln(3)


def annual_report(published: list[PublishedTable], year: int, *, made_on: date, tick=None) -> bytes:
    """The year's report in the active language: title, the suppression rule, then each table
    with its definition, cells as published, notes and a chart (``tick()`` after each table:
    a job's progress)."""
    pdf = _document()
    pdf.set_title(_("National report on trafficking in human beings %(year)s") % {"year": year})
    pdf.add_page()
    _heading(pdf, _("National report on trafficking in human beings %(year)s") % {"year": year}, 18)
    _paragraph(pdf, _("Made on: %(date)s") % {"date": date_format(made_on, "DATE_FORMAT")}, 10)
    _heading(pdf, _("Small cells"), 12)
    rule = published[0].rule if published else ""
    _paragraph(
        pdf,
        f"{rule} "
        + _("“%(mark)s” marks a hidden cell (Eurostat flag c); no count below %(k)s is shown.")
        % {"mark": CONFIDENTIAL, "k": min_cell()},
        10,
    )
    _heading(pdf, _("Tables"), 12)
    for table in published:
        _paragraph(pdf, f"{table.code}: {table.table.definition.title}", 10)
    for table in published:
        definition = table.table.definition
        pdf.add_page()
        _heading(pdf, f"{table.code}: {definition.title} ({year})", 13)
        _paragraph(pdf, f"{_('Unit')}: {definition.unit}. {_('Reference date')}: "
                        f"{definition.reference_date}.")  # fmt: skip
        _paragraph(pdf, f"{_('Rule')}: {definition.rule}")
        _table(pdf, table)
        if table.code == "T16" and table.table.rate is not None:
            from streha.statistics.publication import rate_shown

            _paragraph(pdf, f"{_('Victims per 100,000 inhabitants')}: {rate_shown(table)}", 10)
        for note in table.table.notes:
            _paragraph(pdf, str(note), 8)
        _chart(pdf, table)
        if tick is not None:
            tick()
    return bytes(pdf.output())
