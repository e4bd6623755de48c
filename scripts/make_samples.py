"""Regenerates the binary sample documents (PDF, DOCX) from the text below.

Run from the repo root: .venv/bin/python scripts/make_samples.py
The outputs are committed so that a fresh clone has them without dev tools.
"""

from pathlib import Path

from docx import Document
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

SAMPLES = Path(__file__).resolve().parent.parent / "samples"

EXPENSES = [
    (
        "Travel and Expense Policy",
        [
            "This policy explains which business expenses Northwind Analytics reimburses.",
            "Economy class is required for flights shorter than six hours.",
            "Hotel costs are reimbursed up to 180 EUR per night in major cities.",
        ],
    ),
    (
        "Submitting expenses",
        [
            "Submit expense claims within 60 days of the expense, with receipts attached.",
            "Claims above 500 EUR need approval from your department head.",
            "Reimbursements are paid with the next monthly salary.",
        ],
    ),
]


def make_pdf(path: Path) -> None:
    c = canvas.Canvas(str(path), pagesize=A4)
    c.setTitle("Travel and Expense Policy")
    for heading, lines in EXPENSES:
        y = 780
        c.setFont("Helvetica-Bold", 16)
        c.drawString(72, y, heading)
        c.setFont("Helvetica", 11)
        for line in lines:
            y -= 28
            c.drawString(72, y, line)
        c.showPage()
    c.save()


def make_docx(path: Path) -> None:
    doc = Document()
    doc.core_properties.title = "Onboarding Checklist"
    doc.add_heading("Onboarding Checklist", level=1)
    doc.add_paragraph(
        "New employees complete this checklist during their first two weeks at Northwind."
    )
    doc.add_heading("First day", level=2)
    doc.add_paragraph("Collect your laptop and badge from the office manager at 09:00.")
    doc.add_paragraph("Set up multi-factor authentication for your email account.")
    doc.add_heading("First week", level=2)
    doc.add_paragraph("Complete the security awareness training in the learning portal.")
    table = doc.add_table(rows=1, cols=2)
    table.rows[0].cells[0].text = "Contact"
    table.rows[0].cells[1].text = "Email"
    for name, email in [
        ("IT service desk", "it@northwind.example"),
        ("People team", "people@northwind.example"),
    ]:
        row = table.add_row()
        row.cells[0].text = name
        row.cells[1].text = email
    doc.save(str(path))


if __name__ == "__main__":
    make_pdf(SAMPLES / "travel-expense-policy.pdf")
    make_docx(SAMPLES / "onboarding-checklist.docx")
    print("wrote samples")
