# Concatenate the man page parts (PARTS) into OUT, with @VERSION@ filled in.
string(REPLACE "|" ";" PARTS "${PARTS}")
set(text "")
foreach(part ${PARTS})
  file(READ ${part} chunk)
  string(APPEND text "${chunk}")
endforeach()
string(REPLACE "@VERSION@" "${VERSION}" text "${text}")
file(WRITE ${OUT} "${text}")
