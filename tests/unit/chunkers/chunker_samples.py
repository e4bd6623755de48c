"""Realistic parsed documents, as the parser hands them over, for the chunker tests."""

from __future__ import annotations

from kernel.documents import Element, ParsedDocument


def services_agreement() -> ParsedDocument:
    """A contract from a PDF: numbered clauses, (a)/(i) sub-clauses, recitals, a fee table."""
    e = Element
    elements = (
        e("header", "CONFIDENTIAL - NORTHWIND / CONTOSO", page=1),
        e("title", "MASTER SERVICES AGREEMENT", page=1, level=1),
        e(
            "text",
            'This Master Services Agreement (the "Agreement") is entered into as of 1 March 2024 '
            "by and between Northwind Analytics Ltd., a company incorporated in England and Wales "
            '(hereinafter the "Provider"), and Contoso Retail Inc., a Delaware corporation '
            '(hereinafter the "Customer").',
            page=1,
        ),
        e("text", "WHEREAS, the Provider operates a hosted retail analytics platform; and", page=1),
        e(
            "text",
            "WHEREAS, the Customer wishes to obtain access to that platform on the terms of this "
            "Agreement.",
            page=1,
        ),
        e("text", "NOW, THEREFORE, the parties hereby agree as follows:", page=1),
        e("title", "1. DEFINITIONS", page=1, level=1),
        e(
            "text",
            '1.1 "Affiliate" means any entity that directly or indirectly controls, is controlled '
            "by, or is under common control with a party, where control means ownership of more "
            "than fifty per cent of the voting shares.",
            page=1,
        ),
        e(
            "text",
            '1.2 "Confidential Information" means all non-public information disclosed by one '
            "party to the other, whether orally or in writing, that is marked as confidential or "
            "would reasonably be understood to be confidential.",
            page=1,
        ),
        e(
            "text",
            '1.3 "Services" means the hosted analytics services described in Schedule 1.\n'
            '1.4 "Fees" means the amounts payable by the Customer under clause 2.',
            page=2,
        ),
        e("header", "Page 2 of 4", page=2),
        e("title", "2. PAYMENT", page=2, level=1),
        e(
            "text",
            "2.1 Fees. The Customer shall pay the Fees set out in Schedule 1 as follows:",
            page=2,
        ),
        e("list_item", "(a) the subscription fee, annually in advance;", page=2),
        e(
            "list_item",
            "(b) the usage fee, monthly in arrears, calculated as the sum of:",
            page=2,
        ),
        e(
            "list_item",
            "(i) the number of active seats in the month multiplied by the seat rate; and",
            page=2,
        ),
        e(
            "list_item",
            "(ii) the storage consumed above the included quota, at the storage rate; and",
            page=2,
        ),
        e(
            "list_item",
            "(c) any travel expenses approved in writing by the Customer beforehand.",
            page=2,
        ),
        e(
            "text",
            "2.2 Invoices. The Provider shall invoice the Customer electronically and the "
            "Customer shall pay each undisputed invoice within thirty (30) days of receipt. "
            "Disputed amounts shall be notified in writing within ten (10) days, with reasons, "
            "and the parties shall resolve any dispute in good faith.",
            page=2,
        ),
        e("header", "Page 3 of 4", page=3),
        e(
            "text",
            "2.3 Late Payment. If the Customer fails to pay any undisputed amount by its due "
            "date, the Provider may charge interest on the overdue amount at four per cent per "
            "annum above the base rate of the Bank of England from the due date until payment. "
            "Interest accrues daily and is compounded quarterly.",
            page=3,
        ),
        e(
            "text",
            "If any amount remains unpaid thirty days after a written reminder, the Provider "
            "may suspend the Services on seven days' notice until the amount is paid in full, "
            "and such suspension shall not relieve the Customer of its obligation to pay.",
            page=3,
        ),
        e("title", "3. TERM AND TERMINATION", page=3, level=1),
        e(
            "text",
            "3.1 Term. This Agreement commences on the Effective Date and continues for an "
            "initial term of twenty-four months, after which it renews automatically for "
            "successive periods of twelve months.",
            page=3,
        ),
        e(
            "text",
            "3.2 Either party may terminate this Agreement with immediate effect by written "
            "notice if the other party:",
            page=3,
        ),
        e(
            "list_item",
            "(a) commits a material breach which is not remedied within thirty days of notice;",
            page=3,
        ),
        e("list_item", "(b) becomes insolvent or enters into liquidation; or", page=3),
        e("list_item", "(c) ceases to carry on business.", page=3),
        e("title", "4. LIMITATION OF LIABILITY", page=4, level=1),
        e(
            "text",
            "4.1 Notwithstanding any other provision of this Agreement, neither party shall be "
            "liable for any indirect or consequential loss, or for loss of profit, revenue or "
            "goodwill, howsoever arising.",
            page=4,
        ),
        e(
            "text",
            "4.2 Each party's total liability under this Agreement in any contract year shall "
            "not exceed the Fees paid in that year.",
            page=4,
        ),
        e("title", "SCHEDULE 1 - FEES", page=4, level=1),
        e(
            "table",
            "Plan Annual fee Seat rate Storage rate",
            page=4,
            rows=(
                ("Plan", "Annual fee", "Seat rate", "Storage rate"),
                ("Starter", "GBP 12,000", "GBP 20", "GBP 0.10 per GB"),
                ("Growth", "GBP 30,000", "GBP 16", "GBP 0.08 per GB"),
                ("Enterprise", "GBP 90,000", "GBP 11", "GBP 0.05 per GB"),
            ),
        ),
        e(
            "text",
            "IN WITNESS WHEREOF the parties have executed this Agreement on the date above.",
            page=4,
        ),
    )
    return ParsedDocument(format="pdf", elements=elements, title="Master Services Agreement")


def services_agreement_text() -> ParsedDocument:
    """The plain-text contract of ``samples/``, as the parser hands it over.

    One element per clause line; numbered heading lines are titles (their
    ``numbering`` metadata left out: the chunker does not read it).
    """
    e = Element
    return ParsedDocument(
        "txt",
        (
            e("title", "MASTER SERVICES AGREEMENT"),
            e("text", _MSA_PREAMBLE),
            e("title", "1. Definitions", level=1),
            *(e("text", clause) for clause in _MSA_CLAUSES[1]),
            e("title", "2. Fees and Payment", level=1),
            *(e("text", clause) for clause in _MSA_CLAUSES[2]),
            e("title", "3. Term and Termination", level=1),
            *(e("text", clause) for clause in _MSA_CLAUSES[3]),
        ),
    )


def services_agreement_joined_lines() -> ParsedDocument:
    """The same contract from a converter that joins the lines of each block.

    What unstructured's ``partition_text`` made of it before the parser kept
    line starts (and what an RTF or HTML converter can still give): each block
    of lines one ``list_item``, "2. Fees and Payment 2.1 Customer shall pay ...".
    """
    blocks = [" ".join([f"{n}. {h}", *_MSA_CLAUSES[n]]) for n, h in _MSA_HEADINGS.items()]
    return ParsedDocument(
        "txt",
        (
            Element("title", "MASTER SERVICES AGREEMENT"),
            Element("text", _MSA_PREAMBLE),
            *(Element("list_item", block) for block in blocks),
        ),
    )


_MSA_PREAMBLE = (
    'This Master Services Agreement (the "Agreement") is entered into between Northwind '
    'Analytics Ltd. (hereinafter "Provider") and the customer named in the Order Form '
    '(hereinafter "Customer").'
)
_MSA_HEADINGS = {1: "Definitions", 2: "Fees and Payment", 3: "Term and Termination"}
_MSA_CLAUSES = {
    1: (
        '1.1 "Services" means the analytics services described in the Order Form.',
        '1.2 "Confidential Information" means any information disclosed by one party to the '
        "other that is marked confidential or would reasonably be understood as confidential.",
    ),
    2: (
        "2.1 Customer shall pay the fees set out in the Order Form.",
        "2.2 Invoices are due within 30 days of the invoice date. Late payments bear interest "
        "at 1.5% per month.",
        "2.3 Provider may suspend the Services if an invoice remains unpaid 15 days after "
        "written notice of non-payment, as permitted under clause 2.4 Suspension below.",
        "2.4 Suspension does not relieve Customer of its obligation to pay the fees.",
    ),
    3: (
        "3.1 This Agreement starts on the Effective Date and continues for an initial term of "
        "12 months, renewing automatically for successive 12-month periods.",
        "3.2 Either party may terminate this Agreement:",
        "(a) for convenience, with 90 days' written notice before the end of the current term;",
        "(b) for material breach, if the breach is not cured within 30 days of written notice.",
    ),
}


def license_agreement() -> ParsedDocument:
    """A plain-text licence with Articles, Section headings and (a)/(b) items, as parsed."""
    e = Element
    return ParsedDocument(
        "txt",
        (
            e("title", "SOFTWARE LICENSE AGREEMENT"),
            e("title", "ARTICLE 1 - DEFINITIONS", level=1),
            e(
                "text",
                'Section 1.1 "Licensed Software" means the object code of the software listed '
                "in Exhibit A.",
            ),
            e("title", "ARTICLE 2 - LICENSE GRANT", level=1),
            e(
                "text",
                "Section 2.1 Grant. Licensor grants Licensee a non-exclusive, non-transferable "
                "license to:",
            ),
            e("list_item", "(a) install the Licensed Software on up to 50 workstations; and"),
            e("text", "(b) make one copy of the Licensed Software for backup purposes."),
            e("title", "Section 2.2 Restrictions", level=2),
            e("text", "Licensee shall not:"),
            e("text", "(a) reverse engineer, decompile or disassemble the Licensed Software; or"),
            e("text", "(b) sublicense, rent or lease the Licensed Software to any third party."),
            e("title", "ARTICLE 3 - FEES", level=1),
            e(
                "text",
                "Section 3.1 Licensee shall pay the license fee set out in Exhibit B within 30 "
                "days of delivery, as provided in Section 3.2 Late Payment below.",
            ),
            e("title", "Section 3.2 Late Payment", level=2),
            e("text", "Overdue amounts bear interest at 1% per month."),
        ),
    )


def gateway_manual() -> ParsedDocument:
    """A Markdown product manual: nested headings, lists, code blocks, a settings table."""
    e = Element
    elements = (
        e("title", "Acme Sensor Gateway", level=1),
        e(
            "text",
            "The Acme Sensor Gateway collects readings from up to 64 field sensors and forwards "
            "them to the Acme cloud over MQTT. This guide covers installation, configuration and "
            "troubleshooting of gateway firmware 3.x.",
        ),
        e("title", "Installation", level=2),
        e("title", "Requirements", level=3),
        e("list_item", "A Linux host with systemd and at least 512 MB of free memory."),
        e("list_item", "Outbound access to mqtt.acme.example on port 8883."),
        e("list_item", "A gateway token issued from the Acme console."),
        e("title", "Installing the package", level=3),
        e(
            "text",
            "Download the package for your architecture, install it with the package manager and "
            "enable the service so it starts at boot.",
        ),
        e(
            "code",
            "curl -fsSLO https://downloads.acme.example/gateway/acme-gateway_3.4.1_amd64.deb\n"
            "sudo apt install ./acme-gateway_3.4.1_amd64.deb\n"
            "sudo systemctl enable --now acme-gateway",
        ),
        e("title", "Configuration", level=2),
        e(
            "text",
            "The gateway reads /etc/acme/gateway.yaml at start-up. Every setting can also be "
            "given as an environment variable prefixed with ACME_, which wins over the file.",
        ),
        e(
            "code",
            "gateway:\n"
            "  id: plant-7-north\n"
            "  token: ${ACME_TOKEN}\n"
            "  sample_interval_s: 15\n"
            "mqtt:\n"
            "  host: mqtt.acme.example\n"
            "  port: 8883\n"
            "  tls: true\n"
            "buffer:\n"
            "  path: /var/lib/acme/buffer\n"
            "  max_mb: 256",
        ),
        e(
            "table",
            "",
            rows=(
                ("Setting", "Default", "Meaning"),
                ("sample_interval_s", "15", "Seconds between two readings of each sensor"),
                ("mqtt.port", "8883", "Broker port; 1883 only without TLS"),
                ("mqtt.tls", "true", "Encrypt the connection to the broker"),
                ("buffer.max_mb", "256", "Disk space kept for readings while offline"),
                ("log_level", "info", "One of debug, info, warning, error"),
            ),
        ),
        e("title", "Troubleshooting", level=2),
        e("title", "The gateway does not connect", level=3),
        e(
            "text",
            "Check that the clock is synchronised: TLS handshakes fail when the clock is off by "
            "more than a few minutes. Then check that port 8883 is open from the host.",
        ),
        e("code", "timedatectl status\nnc -vz mqtt.acme.example 8883"),
        e("title", "Readings arrive late", level=3),
        e(
            "text",
            "Readings are buffered on disk while the broker is unreachable and sent oldest first "
            "when the connection returns, so a backlog drains at up to 500 readings per second.",
        ),
        e("title", "Release notes", level=2),
    )
    return ParsedDocument(format="md", elements=elements, title="Acme Sensor Gateway")


ORDER_HEADER = ("order_id", "customer", "region", "product", "quantity", "unit_price", "status")
_REGIONS = ("North", "South", "East", "West")
_PRODUCTS = ("Widget", "Gadget", "Sprocket", "Flange", "Gear")
_STATUSES = ("shipped", "pending", "cancelled")


def orders_table(rows: int = 300) -> ParsedDocument:
    """A CSV export of orders: one table, a header row and ``rows`` data rows."""
    data = tuple(
        (
            f"ORD-{10000 + i}",
            f"Customer {i % 37}",
            _REGIONS[i % 4],
            _PRODUCTS[i % 5],
            str(1 + i % 9),
            f"{5 + i % 11}.{i % 100:02d}",
            _STATUSES[i % 3],
        )
        for i in range(rows)
    )
    table = Element("table", "", page=None, rows=(ORDER_HEADER, *data))
    return ParsedDocument(format="csv", elements=(table,))


def shipment_thread() -> ParsedDocument:
    """A reply with the earlier message quoted below an "On ... wrote:" line."""
    e = Element
    elements = (
        e(
            "text",
            "Hi Dana,\n\nThe replacement gaskets left our Leeds warehouse this morning on "
            "tracking number 1Z999AA10123456784. They should reach your Rotterdam site on "
            "Thursday.\n\nThanks,\nLee",
        ),
        e(
            "text",
            "On Tue, 5 Mar 2024 at 09:14, Dana Whitfield <dana@contoso.example> wrote:\n"
            "> Lee, can you confirm when the replacement gaskets will ship?\n"
            "> Our line in Rotterdam is down until they arrive.\n"
            ">\n"
            "> Dana",
        ),
    )
    metadata = {
        "from": "Lee Chen <lee@northwind.example>",
        "to": "Dana Whitfield <dana@contoso.example>",
        "cc": "ops@contoso.example",
        "subject": "Re: Gasket shipment",
        "date": "Tue, 5 Mar 2024 11:02:00 +0000",
    }
    return ParsedDocument(format="eml", elements=elements, metadata=metadata)


def quarterly_deck() -> ParsedDocument:
    """A slide deck with speaker notes, a table slide, furniture and one over-long slide."""
    e = Element
    long_notes = " ".join(
        f"Point {i}: the Rotterdam line recovered {i} hours of downtime after the gasket change."
        for i in range(1, 41)
    )
    elements = (
        e("title", "Q1 Operations Review", page=1, level=1),
        e("header", "Northwind | 1", page=1),
        e("title", "Highlights", page=2, level=1),
        e("list_item", "On-time delivery rose to 96%", page=2),
        e("list_item", "Two new distribution centres opened", page=2),
        e("notes", "Mention that Leeds opened two weeks early.", page=2),
        e("header", "Northwind | 2", page=2),
        e("title", "Incidents by site", page=3, level=1),
        e(
            "table",
            "",
            page=3,
            rows=(
                ("Site", "Incidents", "Downtime h"),
                ("Leeds", "3", "4"),
                ("Rotterdam", "7", "31"),
            ),
        ),
        e("notes", "Rotterdam downtime was the gasket failure.", page=3),
        e("title", "Rotterdam recovery", page=4, level=1),
        e("text", "Line restarted 8 March after the gasket replacement.", page=4),
        e("notes", long_notes, page=4),
        e("text", "Questions?", page=5),
    )
    return ParsedDocument(format="pptx", elements=elements, title="Q1 Operations Review")


_TOPICS = (
    "Cooling tower {n} was inspected in week {w}.",
    "Inspection {n} found scale deposits on {w} of the fill packs, which reduce heat transfer.",
    "For tower {n}, Dr. Okafor recommended a chemical clean before the summer peak, e.g. with "
    "a citric wash.",
    "Crew {n} logged {w} hours on the pumps and replaced {w} worn bearings.",
    "Motor {n} stayed below 4.5 mm/s of vibration, unlike pump {w}.",
    "Why did pump {n} vibrate? The coupling had worked loose after the March shutdown.",
    "Treatment plant {n} reported costs {w} per cent higher because of the drought restrictions.",
    "Tower {n} is due for its next inspection in week {nw}, weather permitting.",
)


def inspection_report(paragraphs: int = 40, pages: bool = True) -> ParsedDocument:
    """Long plain narrative: paragraphs of varied sentences over several pages."""
    elements = []
    for p in range(paragraphs):
        sentences = [
            _TOPICS[(p + k) % len(_TOPICS)].format(n=10 * p + k + 1, w=(p * 3 + k) % 50, nw=p + 9)
            for k in range(3 + p % 4)
        ]
        page = 1 + p // 6 if pages else None
        elements.append(Element("text", " ".join(sentences), page=page))
    return ParsedDocument(format="pdf" if pages else "txt", elements=tuple(elements))


_VOCABULARY = (
    "the committee noted that",
    "notwithstanding earlier objections",
    "every regional office",
    "and each subcontractor",
    "shall report quarterly on",
    "energy consumption",
    "waste handling",
    "and the remediation of",
)


def runaway_sentence(words: int = 5000) -> ParsedDocument:
    """One sentence of ``words`` words with no full stop: the pathological paragraph."""
    found: list[str] = []
    i = 0
    while len(found) < words:
        found.extend(_VOCABULARY[i % len(_VOCABULARY)].split())
        found.append(f"site{i}")
        i += 1
    return ParsedDocument(format="txt", elements=(Element("text", " ".join(found[:words])),))


def generated_module(lines: int = 10_000) -> ParsedDocument:
    """A Markdown page whose only content is one code block of ``lines`` lines."""
    code: list[str] = []
    for i in range(lines):
        if i % 25 == 0:
            code.append(f"def step_{i}(frame, factor={i % 13}):")
        elif i % 25 == 24:
            code.append("")
        else:
            code.append(f"    frame['col_{i}'] = frame['col_{i - 1}'] * factor + {i}")
    elements = (
        Element("title", "Generated transforms", level=1),
        Element("code", "\n".join(code)),
    )
    return ParsedDocument(format="md", elements=elements)


def every_sample() -> dict[str, ParsedDocument]:
    return {
        "contract": services_agreement(),
        "manual": gateway_manual(),
        "orders": orders_table(),
        "email": shipment_thread(),
        "deck": quarterly_deck(),
        "report": inspection_report(),
        "runaway_sentence": runaway_sentence(),
        "code_10k_lines": generated_module(),
    }
