# CMake package config for dash-qrsync: find_package(dash_qrsync 0.1 REQUIRED) then link
# `dash_qrsync::dash_qrsync` (shared) or `dash_qrsync::static`.
#
# Installed by scripts/c-install.sh into PREFIX/lib/cmake/dash_qrsync/ (find it with
# CMAKE_PREFIX_PATH=PREFIX). Used straight from the repository (DASH_QRSYNC_ROOT or
# CMAKE_PREFIX_PATH pointing at ffi/cmake), it takes the library from target/<DASH_QRSYNC_PROFILE>
# (release by default).
if(CMAKE_CURRENT_LIST_DIR MATCHES "/lib[^/]*/cmake/dash_qrsync$")
  get_filename_component(_dqs_root "${CMAKE_CURRENT_LIST_DIR}/../../.." ABSOLUTE)
else()
  get_filename_component(_dqs_root "${CMAKE_CURRENT_LIST_DIR}/../.." ABSOLUTE)
endif()
if(DASH_QRSYNC_ROOT)
  set(_dqs_root "${DASH_QRSYNC_ROOT}")
endif()
if(EXISTS "${_dqs_root}/Cargo.toml")
  if(NOT DASH_QRSYNC_PROFILE)
    set(DASH_QRSYNC_PROFILE release)
  endif()
  set(_dqs_libdir "${_dqs_root}/target/${DASH_QRSYNC_PROFILE}")
  set(_dqs_native "gcc_s;util;rt;pthread;m;dl;c")
else()
  set(_dqs_libdir "${_dqs_root}/lib")
  # Filled in by scripts/c-install.sh from rustc's native-static-libs.
  string(REPLACE "-l" "" _dqs_native "@NATIVE_STATIC_LIBS@")
  separate_arguments(_dqs_native)
endif()
set(_dqs_incdir "${_dqs_root}/include")

find_library(DASH_QRSYNC_SHARED NAMES dash_qrsync PATHS "${_dqs_libdir}" NO_DEFAULT_PATH)
find_file(DASH_QRSYNC_STATIC NAMES libdash_qrsync.a PATHS "${_dqs_libdir}" NO_DEFAULT_PATH)

if(DASH_QRSYNC_SHARED AND NOT TARGET dash_qrsync::dash_qrsync)
  add_library(dash_qrsync::dash_qrsync SHARED IMPORTED)
  set_target_properties(dash_qrsync::dash_qrsync PROPERTIES
    IMPORTED_LOCATION "${DASH_QRSYNC_SHARED}"
    INTERFACE_INCLUDE_DIRECTORIES "${_dqs_incdir}")
endif()
if(DASH_QRSYNC_STATIC AND NOT TARGET dash_qrsync::static)
  add_library(dash_qrsync::static STATIC IMPORTED)
  set_target_properties(dash_qrsync::static PROPERTIES
    IMPORTED_LOCATION "${DASH_QRSYNC_STATIC}"
    INTERFACE_INCLUDE_DIRECTORIES "${_dqs_incdir}"
    INTERFACE_LINK_LIBRARIES "${_dqs_native}")
endif()
set(dash_qrsync_FOUND TRUE)
if(NOT DASH_QRSYNC_SHARED AND NOT DASH_QRSYNC_STATIC)
  set(dash_qrsync_FOUND FALSE)
  set(dash_qrsync_NOT_FOUND_MESSAGE "no libdash_qrsync found in ${_dqs_libdir}")
endif()
