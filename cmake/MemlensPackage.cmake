# pkg-config file and CMake package (find_package(memlens) -> memlens::memlens).
include(CMakePackageConfigHelpers)

configure_file(${PROJECT_SOURCE_DIR}/cmake/memlens.pc.in ${PROJECT_BINARY_DIR}/memlens.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/memlens.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

install(EXPORT memlensTargets NAMESPACE memlens:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/memlens)
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/memlensConfig.cmake.in
  ${PROJECT_BINARY_DIR}/memlensConfig.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/memlens)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/memlensConfigVersion.cmake
  COMPATIBILITY SameMajorVersion)
install(FILES ${PROJECT_BINARY_DIR}/memlensConfig.cmake ${PROJECT_BINARY_DIR}/memlensConfigVersion.cmake
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/memlens)
