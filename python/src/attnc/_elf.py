"""Reading the models of a compiled library from its dynamic symbols."""

import struct
from typing import List

_SHT_DYNSYM = 11


def dynamic_symbols(path: str) -> List[str]:
    """The names of the defined dynamic symbols of an ELF64 little-endian
    shared library (empty for anything else)."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        return []
    shoff = struct.unpack_from("<Q", data, 0x28)[0]
    shentsize, shnum = struct.unpack_from("<HH", data, 0x3A)
    sections = []
    for i in range(shnum):
        off = shoff + i * shentsize
        (_, sh_type, _, _, sh_offset, sh_size, sh_link, _, _,
         sh_entsize) = struct.unpack_from("<IIQQQQIIQQ", data, off)
        sections.append((sh_type, sh_offset, sh_size, sh_link, sh_entsize))
    names = []
    for sh_type, offset, size, link, entsize in sections:
        if sh_type != _SHT_DYNSYM or not entsize:
            continue
        str_off = sections[link][1]
        for j in range(size // entsize):
            st_name, _, _, st_shndx = struct.unpack_from(
                "<IBBH", data, offset + j * entsize)
            if st_shndx == 0 or st_name == 0:
                continue  # undefined, or no name
            end = data.index(b"\0", str_off + st_name)
            names.append(data[str_off + st_name:end].decode("utf-8", "replace"))
    return names


def model_names(path: str) -> List[str]:
    """The models of a library: names M with attnc_M, attnc_M_signature and
    attnc_M_last_error all exported (sorted)."""
    syms = set(dynamic_symbols(path))
    out = []
    for s in syms:
        if s.startswith("attnc_") and s.endswith("_signature"):
            m = s[len("attnc_"):-len("_signature")]
            if m and "attnc_" + m in syms and "attnc_%s_last_error" % m in syms:
                out.append(m)
    return sorted(out)
