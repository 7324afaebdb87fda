# CMake package config for dash-qrsync: find_package(dash_qrsync REQUIRED) then link
# `dash_qrsync::dash_qrsync` (shared) or `dash_qrsync::static`.
# Set DASH_QRSYNC_ROOT to the install prefix (include/ and lib/), or to the repository with
# DASH_QRSYNC_PROFILE=release|debug to use the cargo build directly.
set(_dqs_root "${DASH_QRSYNC_ROOT}")
if(NOT _dqs_root)
  get_filename_component(_dqs_root "${CMAKE_CURRENT_LIST_DIR}/../.." ABSOLUTE)
endif()
if(EXISTS "${_dqs_root}/Cargo.toml")
  if(NOT DASH_QRSYNC_PROFILE)
    set(DASH_QRSYNC_PROFILE release)
  endif()
  set(_dqs_libdir "${_dqs_root}/target/${DASH_QRSYNC_PROFILE}")
else()
  set(_dqs_libdir "${_dqs_root}/lib")
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
    INTERFACE_LINK_LIBRARIES "gcc_s;util;rt;pthread;m;dl;c")
endif()
set(dash_qrsync_FOUND TRUE)
if(NOT DASH_QRSYNC_SHARED AND NOT DASH_QRSYNC_STATIC)
  set(dash_qrsync_FOUND FALSE)
  message(STATUS "dash_qrsync: no library found in ${_dqs_libdir}")
endif()
