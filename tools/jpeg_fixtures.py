#!/usr/bin/env python3
"""Small JPEG fixtures and their PIL-decoded pixels for tests/io_jpeg.test.ts.

Writes tests/fixtures/jpeg/<name>.jpg and <name>.png (PIL's decode, RGB, lossless PNG) for
quality 75 and 90 (4:2:0), 4:4:4, greyscale, progressive and CMYK. Run with a Python that has
PIL (Debian: apt-get install python3-pil; /usr/bin/python3 tools/jpeg_fixtures.py).
"""
import math
import os
import random

from PIL import Image

OUT = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "jpeg")


def texture(w, h, seed=1):
    rnd = random.Random(seed)
    im = Image.new("RGB", (w, h))
    px = im.load()
    for y in range(h):
        for x in range(w):
            r = 128 + 90 * math.sin(x / 3.0) * math.cos(y / 5.0) + rnd.randint(-20, 20)
            g = 128 + 80 * math.sin((x + y) / 7.0) + rnd.randint(-20, 20)
            b = 255 * ((x // 8 + y // 8) % 2) * 0.6 + rnd.randint(0, 60)
            if (x - 40) ** 2 + (y - 20) ** 2 < 36:  # a "defect"
                r, g, b = 250, 30, 30
            px[x, y] = tuple(max(0, min(255, int(v))) for v in (r, g, b))
    return im


def main():
    os.makedirs(OUT, exist_ok=True)
    im = texture(67, 45)  # odd sizes exercise the chroma edge handling
    cases = {
        "q75": dict(image=im, quality=75),
        "q90": dict(image=im, quality=90),
        "q90_444": dict(image=im, quality=90, subsampling=0),
        "q75_progressive": dict(image=im, quality=75, progressive=True),
        "gray_q80": dict(image=im.convert("L"), quality=80),
        "cmyk_q90": dict(image=im.convert("CMYK"), quality=90),
    }
    for name, kw in cases.items():
        src = kw.pop("image")
        path = os.path.join(OUT, f"{name}.jpg")
        src.save(path, "JPEG", **kw)
        Image.open(path).convert("RGB").save(os.path.join(OUT, f"{name}.png"))
        print(name, os.path.getsize(path))


if __name__ == "__main__":
    main()
