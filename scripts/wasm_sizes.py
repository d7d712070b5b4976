#!/usr/bin/env python3
"""What the browser bundle's code is made of, by crate and by app module (no twiggy needed).

Reads the function names of a .wasm that still has its name section: the unsplit,
pre-wasm-opt output of a release front build,

    PATH="end2end/node_modules/.bin:$PATH" cargo leptos build --release --split --frontend-only
    python3 scripts/wasm_sizes.py [target/front/wasm32-unknown-unknown/wasm-release/frontend.wasm]

and sums each function body's bytes by the crate its name mentions (a generic function
instantiated for an app type counts as app). Sizes are before wasm-opt and gzip: use them as
shares, not as the bytes a page downloads.
"""
import collections
import re
import sys

DEFAULT = "target/front/wasm32-unknown-unknown/wasm-release/frontend.wasm"
CRATES = {
    "app", "leptos", "leptos_router", "leptos_meta", "tachys", "reactive_graph", "serde",
    "serde_core", "serde_json", "wasm_bindgen", "wasm_bindgen_futures", "js_sys", "web_sys",
    "hashbrown", "server_fn", "chrono", "gloo_timers", "futures_util", "futures_channel",
    "dlmalloc", "send_wrapper", "any_spawner", "uuid", "itoa", "ryu", "indexmap", "slotmap",
    "hydration_context", "frontend", "either_of", "http", "url", "core", "alloc", "std",
}
LOW = {"core", "alloc", "std"}


def leb(b, i):
    """Unsigned LEB128 at b[i]: (value, next index)."""
    value = shift = 0
    while True:
        x = b[i]
        i += 1
        value |= (x & 0x7F) << shift
        shift += 7
        if x < 0x80:
            return value, i


def skip_name(b, i):
    n, i = leb(b, i)
    return i + n


def functions(data):
    """(name, body size) of every defined function."""
    i, imported, bodies, names = 8, 0, [], {}
    while i < len(data):
        section = data[i]
        size, i = leb(data, i + 1)
        j, end = i, i + size
        if section == 2:  # imports: functions come first in the index space
            count, j = leb(data, j)
            for _ in range(count):
                j = skip_name(data, skip_name(data, j))
                kind = data[j]
                j += 1
                if kind == 0:
                    _, j = leb(data, j)
                    imported += 1
                elif kind == 1:
                    flags = data[j + 1]
                    _, j = leb(data, j + 2)
                    if flags & 1:
                        _, j = leb(data, j)
                elif kind == 2:
                    flags = data[j]
                    _, j = leb(data, j + 1)
                    if flags & 1:
                        _, j = leb(data, j)
                elif kind == 3:
                    j += 2
                elif kind == 4:
                    _, j = leb(data, j + 1)
        elif section == 10:  # code
            count, j = leb(data, j)
            for _ in range(count):
                n, j = leb(data, j)
                bodies.append(n)
                j += n
        elif section == 0:  # custom: the "name" section's function names
            n, j = leb(data, j)
            if data[j:j + n] == b"name":
                j += n
                while j < end:
                    sub = data[j]
                    n, j = leb(data, j + 1)
                    if sub == 1:
                        k = j
                        count, k = leb(data, k)
                        for _ in range(count):
                            idx, k = leb(data, k)
                            length, k = leb(data, k)
                            names[idx] = data[k:k + length].decode("utf8", "replace")
                            k += length
                    j += n
        i = end
    if not names:
        sys.exit("no name section: use the wasm before wasm-opt (see the docstring)")
    return [(names.get(imported + k, "?"), n) for k, n in enumerate(bodies)]


def main():
    data = open(sys.argv[1] if len(sys.argv) > 1 else DEFAULT, "rb").read()
    funcs = functions(data)
    total = sum(n for _, n in funcs)
    by_crate, by_module = collections.Counter(), collections.Counter()
    for name, n in funcs:
        words = [w for w in re.split(r"[^A-Za-z_]+", name) if w in CRATES]
        crate = "app" if "app" in words else next(
            (w for w in words if w not in LOW), words[0] if words else "(unnamed)")
        by_crate["serde" if crate == "serde_core" else crate] += n
        if crate == "app":
            # The mangled path after `app`: its first two modules.
            parts = [p for p in re.split(r"\d+|::|\.\.", name.split("app", 1)[1]) if p]
            by_module["::".join(parts[:2])] += n
    print(f"{len(funcs)} functions, {total:,} bytes of code (before wasm-opt)")
    print("by crate:")
    for crate, n in by_crate.most_common(20):
        print(f"  {n / total:6.1%} {n:>9,}  {crate}")
    print("app, by module:")
    for module, n in by_module.most_common(15):
        print(f"  {n / total:6.1%} {n:>9,}  {module}")


if __name__ == "__main__":
    main()
