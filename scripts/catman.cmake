# Concatenate the man page parts (PARTS) into OUT, with @VERSION@ filled in.
# The policies of a known version: under CMake's old rules (a script sets none)
# the "@VERSION@" below was itself expanded, so nothing was replaced.
cmake_minimum_required(VERSION 3.16)
string(REPLACE "|" ";" PARTS "${PARTS}")
set(text "")
foreach(part ${PARTS})
  file(READ ${part} chunk)
  string(APPEND text "${chunk}")
endforeach()
string(REPLACE "@VERSION@" "${VERSION}" text "${text}")
file(WRITE ${OUT} "${text}")
