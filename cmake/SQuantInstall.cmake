# `cmake --install`: squant's headers (with the generated .inc files), its
# libraries as exported targets (SQuant::...), SQuantConfig.cmake, the tools
# and the plugin. test/Package builds an external project against it.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(SQUANT_EXPORTED_LIBRARIES
  SQuantReference SQuantDialect SQuantTransforms squant_rt_static squant_rt
  SQuantToRuntime SQuantParallelToRuntime SQuantToVector SQuantToGPU SQuantConversionPipelines SQuantInitAll
  SQuantCAPI SQuantExecution)
foreach(target ${SQUANT_EXPORTED_LIBRARIES})
  target_include_directories(${target} INTERFACE
    $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
endforeach()

install(TARGETS ${SQUANT_EXPORTED_LIBRARIES} EXPORT SQuantTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
# Installed tools and the plugin find libMLIR.so where they were built
# against it.
set_target_properties(squant-opt squant-run SQuantPlugin squant_rt PROPERTIES
  INSTALL_RPATH "${LLVM_LIBRARY_DIR}")
install(TARGETS squant-opt squant-run RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(TARGETS SQuantPlugin LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/squant
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} FILES_MATCHING PATTERN "*.h" PATTERN "*.td")
install(DIRECTORY ${PROJECT_BINARY_DIR}/include/squant
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} FILES_MATCHING PATTERN "*.inc" PATTERN "*.h")
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/squant-c
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/runtime/include/squant
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})

set(SQUANT_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/squant)
install(EXPORT SQuantTargets NAMESPACE SQuant:: DESTINATION ${SQUANT_CMAKE_DIR})
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/SQuantConfig.cmake.in
  ${PROJECT_BINARY_DIR}/SQuantConfig.cmake
  INSTALL_DESTINATION ${SQUANT_CMAKE_DIR}
  PATH_VARS CMAKE_INSTALL_INCLUDEDIR)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/SQuantConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/SQuantConfig.cmake
  ${PROJECT_BINARY_DIR}/SQuantConfigVersion.cmake DESTINATION ${SQUANT_CMAKE_DIR})
