#!/usr/bin/env python3
"""Decodes every QR code SVG in a directory with an independent decoder, for QRCodeTests.

Usage: qr_decode.py DIR. Each DIR/NAME.svg is rendered to a PNG by cairosvg and read by zxing-cpp; prints one JSON object
{NAME: decoded text, or null when nothing was found}. scripts/test installs both from PyPI.
"""
import io
import json
import pathlib
import sys

import cairosvg
import zxingcpp
from PIL import Image


def decode(svg):
    png = cairosvg.svg2png(bytestring=svg.read_bytes(), output_width=4 * int(svg.read_text().split('viewBox="0 0 ')[1].split(" ")[0]))
    image = Image.open(io.BytesIO(png)).convert("L")
    found = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)
    return found[0].text if found else None


if __name__ == "__main__":
    directory = pathlib.Path(sys.argv[1])
    print(json.dumps({svg.stem: decode(svg) for svg in sorted(directory.glob("*.svg"))}))
