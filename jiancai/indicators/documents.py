"""A `reports.Report` as an XLSX workbook (openpyxl, every cell through `ui.spreadsheets.cell_value`, so text from
user data never becomes a formula) and as a PDF (ReportLab: Chinese text in the built-in CID font STSong-Light,
which needs no font file; charts drawn with reportlab.graphics)."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from typing import Any
from urllib.parse import quote

from django.http import HttpResponse
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from reportlab.graphics.charts.barcharts import HorizontalBarChart, VerticalBarChart
from reportlab.graphics.charts.piecharts import Pie
from reportlab.graphics.shapes import Drawing, String
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from jiancai.ui.spreadsheets import cell_value

from .reports import Chart, Report

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FONT = "STSong-Light"
pdfmetrics.registerFont(UnicodeCIDFont(FONT))

PALETTE = [colors.HexColor(c) for c in ("#2f6fb0", "#d9822b", "#3a9d5d", "#c23b3b", "#7a5cb8", "#8c8c8c", "#b8a02e")]


def _write_cell(ws: Any, row: int, col: int, value: Any, *, bold: bool = False) -> None:
    cell = ws.cell(row=row, column=col, value=cell_value(value))
    if isinstance(cell.value, str):
        cell.data_type = "s"  # never interpreted as a formula
    elif isinstance(cell.value, dt.datetime):
        cell.number_format = "yyyy-mm-dd hh:mm:ss"
    elif isinstance(cell.value, dt.date):
        cell.number_format = "yyyy-mm-dd"
    if bold:
        cell.font = Font(bold=True)


def xlsx_bytes(report: Report) -> bytes:
    """The report's first sheet 概况 (title and facts), then one sheet per table: title row, headers, rows, note."""
    wb = Workbook()
    wb.remove(wb.worksheets[0])
    summary = wb.create_sheet("概况")
    _write_cell(summary, 1, 1, report.title, bold=True)
    for i, (label, value) in enumerate(report.meta, start=2):
        _write_cell(summary, i, 1, label, bold=True)
        _write_cell(summary, i, 2, value)
    summary.column_dimensions["A"].width = 14
    summary.column_dimensions["B"].width = 48
    for n, table in enumerate(report.tables, start=1):
        ws = wb.create_sheet(_sheet_title(table.title, n))
        _write_cell(ws, 1, 1, table.title, bold=True)
        for c, header in enumerate(table.headers, start=1):
            _write_cell(ws, 2, c, header, bold=True)
            ws.column_dimensions[get_column_letter(c)].width = max(10, min(40, len(header) * 2 + 4))
        for r, row in enumerate(table.rows, start=3):
            for c, value in enumerate(row, start=1):
                _write_cell(ws, r, c, value)
        if table.note:
            _write_cell(ws, len(table.rows) + 4, 1, f"注：{table.note}")
            ws.cell(row=len(table.rows) + 4, column=1).alignment = Alignment(wrap_text=False)
        ws.freeze_panes = "A3"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _sheet_title(title: str, n: int) -> str:
    """A sheet name Excel accepts: ≤ 31 characters, none of []:*?/\\ (the table's title without its numbering)."""
    name = title.split("、", 1)[-1]
    for ch in "[]:*?/\\":
        name = name.replace(ch, " ")
    return f"{n}.{name}"[:31]


def _text(value: Any) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, Decimal):
        return f"{value.normalize():f}" if value == value.to_integral() else f"{value:f}".rstrip("0")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _styles() -> dict[str, ParagraphStyle]:
    return {
        "title": ParagraphStyle("title", fontName=FONT, fontSize=16, leading=22, alignment=1, spaceAfter=6),
        "h2": ParagraphStyle("h2", fontName=FONT, fontSize=12, leading=16, spaceBefore=8, spaceAfter=4),
        "body": ParagraphStyle("body", fontName=FONT, fontSize=9, leading=12),
        "cell": ParagraphStyle("cell", fontName=FONT, fontSize=7.5, leading=9.5),
        "note": ParagraphStyle("note", fontName=FONT, fontSize=7.5, leading=10, textColor=colors.HexColor("#555555")),
    }


def _escape(text: str) -> str:
    """Paragraph markup of plain text; ³ (absent from STSong-Light) as a superscript 3."""
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return escaped.replace("³", "<super>3</super>")


def _pdf_table(headers: list[str], rows: list[list[Any]], width: float, styles: dict[str, ParagraphStyle]) -> Table:
    cell = styles["cell"]
    data = [[Paragraph(_escape(h), cell) for h in headers]]
    data += [[Paragraph(_escape(_text(v)), cell) for v in row] for row in rows] or [
        [Paragraph("（无数据）", cell)] + [""] * (len(headers) - 1)
    ]
    table = Table(data, colWidths=_column_widths(headers, rows, width), repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#999999")),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8eef6")),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ("TOPPADDING", (0, 0), (-1, -1), 2),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
            ]
        )
    )
    return table


def _display_width(text: str) -> float:
    """Roughly how wide a text sets: a CJK character takes about twice a Latin one."""
    return sum(2.0 if ord(ch) >= 0x2E80 else 1.1 for ch in text)


def _column_widths(headers: list[str], rows: list[list[Any]], width: float) -> list[float]:
    """Widths in proportion to each column's widest text (a header may wrap onto two lines), within bounds."""
    weights = []
    for c, header in enumerate(headers):
        widest = max([_display_width(header) * 0.4, *(_display_width(_text(r[c])) for r in rows if c < len(r))])
        weights.append(min(max(widest, 4.0), 40.0))
    total = sum(weights)
    return [width * w / total for w in weights]


def chart_drawing(chart: Chart, width: float = 120 * mm, height: float = 62 * mm) -> Drawing:
    drawing = Drawing(width, height)
    drawing.add(String(width / 2, height - 12, chart.title, fontName=FONT, fontSize=10, textAnchor="middle"))
    if not chart.values:
        drawing.add(String(width / 2, height / 2, "（本月无数据）", fontName=FONT, fontSize=9, textAnchor="middle"))
        return drawing
    if chart.kind == "pie":
        pie = Pie()
        size = min(height - 40, width - 120)
        pie.x, pie.y, pie.width, pie.height = (width - size) / 2, 12, size, size
        pie.data = chart.values
        pie.labels = [f"{label} {int(v)}" for label, v in zip(chart.labels, chart.values, strict=True)]
        pie.slices.fontName = FONT
        pie.slices.fontSize = 7
        pie.sideLabels = True
        for i in range(len(chart.values)):
            pie.slices[i].fillColor = PALETTE[i % len(PALETTE)]
        drawing.add(pie)
        return drawing
    bars: VerticalBarChart | HorizontalBarChart
    if chart.kind == "hbar":
        bars = HorizontalBarChart()
        bars.x, bars.y, bars.width, bars.height = 60, 15, width - 75, height - 40
        bars.valueAxis.valueMax = 100
    else:
        bars = VerticalBarChart()
        bars.x, bars.y, bars.width, bars.height = 30, 40, width - 40, height - 65
    bars.data = [chart.values]
    bars.valueAxis.valueMin = 0
    bars.categoryAxis.categoryNames = chart.labels
    bars.categoryAxis.labels.fontName = FONT
    bars.categoryAxis.labels.fontSize = 7
    bars.valueAxis.labels.fontName = FONT
    bars.valueAxis.labels.fontSize = 7
    bars.bars[0].fillColor = PALETTE[0]
    bars.barLabelFormat = "%.0f" if chart.kind == "bar" else "%.1f"
    bars.barLabels.fontName = FONT
    bars.barLabels.fontSize = 6
    if chart.kind == "bar":
        bars.categoryAxis.labels.angle = 30
        bars.categoryAxis.labels.boxAnchor = "ne"
    drawing.add(bars)
    return drawing


def pdf_bytes(report: Report) -> bytes:
    buf = io.BytesIO()
    pagesize = landscape(A4) if report.landscape else A4
    doc = SimpleDocTemplate(
        buf,
        pagesize=pagesize,
        leftMargin=12 * mm,
        rightMargin=12 * mm,
        topMargin=12 * mm,
        bottomMargin=12 * mm,
        title=report.title,
        author="建材使用管理信息化监控与诚信平台",
    )
    styles = _styles()
    width = pagesize[0] - 24 * mm
    story: list[Flowable] = [Paragraph(_escape(report.title), styles["title"])]
    story.append(
        Paragraph("　".join(f"{_escape(k)}：{_escape(v)}" for k, v in report.meta), styles["body"]),
    )
    story.append(Spacer(1, 4 * mm))
    if report.charts:
        per_row = 3
        for i in range(0, len(report.charts), per_row):
            drawings = [chart_drawing(c, width / per_row - 4 * mm) for c in report.charts[i : i + per_row]]
            row = Table([drawings], colWidths=[width / per_row] * len(drawings))
            story.append(row)
        story.append(Spacer(1, 2 * mm))
    for table in report.tables:
        story.append(Paragraph(_escape(table.title), styles["h2"]))
        story.append(_pdf_table(table.headers, table.rows, width, styles))
        if table.note:
            story.append(Paragraph(f"注：{_escape(table.note)}", styles["note"]))

    def page_number(canvas: Any, document: Any) -> None:
        canvas.setFont(FONT, 8)
        canvas.drawRightString(pagesize[0] - 12 * mm, 7 * mm, f"第 {document.page} 页")

    doc.build(story, onFirstPage=page_number, onLaterPages=page_number)
    return buf.getvalue()


def download(report: Report, fmt: str) -> HttpResponse:
    if fmt == "pdf":
        body, content_type, ext = pdf_bytes(report), "application/pdf", "pdf"
    else:
        body, content_type, ext = xlsx_bytes(report), XLSX_TYPE, "xlsx"
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(report.filename)}.{ext}"
    return response
