# cmake -DOUT=<dir> -DSIGNALR=<signalr.min.js> -DFILES=<a;b;c> -P copy_web.cmake
if(NOT EXISTS "${SIGNALR}")
  message(FATAL_ERROR
    "\n  The SignalR browser bundle is missing:\n    ${SIGNALR}\n"
    "  Run scripts/install-deps (it runs `npm ci` in services/hub-gateway/web), then build again.\n")
endif()
file(MAKE_DIRECTORY "${OUT}/vendor")
# Plain copies (new mtimes), so the outputs are newer than their inputs and the build is a no-op
# until something changes.
foreach(f ${FILES})
  get_filename_component(name "${f}" NAME)
  file(COPY_FILE "${f}" "${OUT}/${name}")
endforeach()
file(COPY_FILE "${SIGNALR}" "${OUT}/vendor/signalr.min.js")
