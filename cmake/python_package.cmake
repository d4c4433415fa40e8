# The Python package (python/aekit) in a build tree or an install: copies
# SRC/*.py into DST, removes DST/*.py that SRC no longer has, and writes
# DST/_paths.py naming LIBDIR, the folder of libaekit.so that the package
# loads, and VERSION, the library's version (AEKIT_VERSION) that it must
# report (python/aekit/_lib.py). Files whose bytes are unchanged are left
# alone (their times too).
#   cmake -DSRC=python/aekit -DDST=BUILD/python/aekit -DLIBDIR=BUILD -DVERSION=X.Y.Z -P python_package.cmake
# In an install (cmake --install), the same is included with those four
# variables set and MANIFEST=1: the files written join the install manifest.
cmake_minimum_required(VERSION 3.25)  # IN_LIST in script mode
if(NOT VERSION MATCHES "^[0-9]+\\.[0-9]+\\.[0-9]+$")
  message(FATAL_ERROR "python_package.cmake: VERSION must be the library's X.Y.Z, got '${VERSION}'")
endif()
file(MAKE_DIRECTORY "${DST}")
file(GLOB sources RELATIVE "${SRC}" "${SRC}/*.py")
list(REMOVE_ITEM sources _paths.py)   # never a source file: written here
file(GLOB present RELATIVE "${DST}" "${DST}/*.py")
foreach(f IN LISTS present)
  if(NOT f STREQUAL "_paths.py" AND NOT f IN_LIST sources)
    file(REMOVE "${DST}/${f}")
  endif()
endforeach()
set(paths_text "# Written by cmake/python_package.cmake: where this package's libaekit.so is,\n# and the version it must report (ae_version).\nLIBRARY_DIRS = [\"${LIBDIR}\"]\nVERSION = \"${VERSION}\"\n")
file(WRITE "${DST}/_paths.py.tmp" "${paths_text}")
file(COPY_FILE "${DST}/_paths.py.tmp" "${DST}/_paths.py" ONLY_IF_DIFFERENT)
file(REMOVE "${DST}/_paths.py.tmp")
foreach(f IN LISTS sources ITEMS _paths.py)
  if(NOT f STREQUAL "_paths.py")
    file(COPY_FILE "${SRC}/${f}" "${DST}/${f}" ONLY_IF_DIFFERENT)
  endif()
  if(MANIFEST)
    message(STATUS "Installing: ${DST}/${f}")
    list(APPEND CMAKE_INSTALL_MANIFEST_FILES "${DST}/${f}")
  endif()
endforeach()
