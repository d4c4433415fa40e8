# Writes a C file holding the text file IN as one string named NAME (and its
# length NAME_len), so the binary needs no data files to run (aekit serve's
# page). Usage: cmake -DIN=FILE -DOUT=FILE.c -DNAME=IDENT -P embed_text.cmake
file(READ ${IN} content HEX)
string(LENGTH "${content}" hexlen)
math(EXPR len "${hexlen} / 2")
# one byte per "0xNN," so any text (quotes, backslashes, UTF-8) passes as is
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${content}")
string(REGEX REPLACE "(0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,)" "\\1\n" bytes "${bytes}")
file(WRITE ${OUT}.tmp "/* Generated from ${IN} by cmake/embed_text.cmake. */\n#include <stddef.h>\n"
     "const char ${NAME}[] = {\n${bytes}0x00};\nconst size_t ${NAME}_len = ${len};\n")
file(RENAME ${OUT}.tmp ${OUT})
