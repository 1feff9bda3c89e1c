# Embeds the static front-end (web/*.html, *.css, *.js) into the library as byte arrays, so one
# `neurona` binary serves the web app offline. Included from the top-level CMakeLists.txt.
file(GLOB NEURONA_WEB_FILES CONFIGURE_DEPENDS
  ${CMAKE_CURRENT_SOURCE_DIR}/web/*.html ${CMAKE_CURRENT_SOURCE_DIR}/web/*.css
  ${CMAKE_CURRENT_SOURCE_DIR}/web/*.js)
string(REPLACE ";" "|" NEURONA_WEB_FILE_LIST "${NEURONA_WEB_FILES}")
set(NEURONA_WEB_ASSETS_CPP ${CMAKE_CURRENT_BINARY_DIR}/generated/web_assets.cpp)
add_custom_command(
  OUTPUT ${NEURONA_WEB_ASSETS_CPP}
  COMMAND ${CMAKE_COMMAND} -DOUT=${NEURONA_WEB_ASSETS_CPP} "-DFILES=${NEURONA_WEB_FILE_LIST}"
          -P ${CMAKE_CURRENT_SOURCE_DIR}/web/embed_files.cmake
  DEPENDS ${NEURONA_WEB_FILES} ${CMAKE_CURRENT_SOURCE_DIR}/web/embed_files.cmake
  COMMENT "Embedding the web app's static files" VERBATIM)
target_sources(neurona PRIVATE ${NEURONA_WEB_ASSETS_CPP})

find_package(PkgConfig REQUIRED)
pkg_check_modules(HTTPLIB REQUIRED IMPORTED_TARGET cpp-httplib)
target_link_libraries(neurona PRIVATE $<BUILD_INTERFACE:PkgConfig::HTTPLIB>)
