"""The machine, as the comparison scripts name it beside their figures."""


def cpu():
    """CPU model and its AVX/FMA flags, from /proc/cpuinfo."""
    model, flags = "?", []
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name") and model == "?":
                model = line.split(":", 1)[1].strip()
            if line.startswith("flags") and not flags:
                flags = [x for x in line.split(":", 1)[1].split() if x.startswith(("avx", "fma"))]
    return "%s (%s)" % (model, " ".join(flags))
