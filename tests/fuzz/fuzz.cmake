# libFuzzer targets, included from tests/fuzz/CMakeLists.txt when CC is
# clang. Each target compiles the core sources it needs with the fuzzer and
# sanitizer flags (agw_core itself is not instrumented). Binaries go to
# build-fuzz/fuzz/; `make fuzz` runs them.
include(CheckCSourceCompiles)
set(CMAKE_REQUIRED_FLAGS -fsanitize=fuzzer)
check_c_source_compiles("
#include <stddef.h>
#include <stdint.h>
int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);
int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { return 0; }
" AGW_HAVE_LIBFUZZER)
unset(CMAKE_REQUIRED_FLAGS)

if(AGW_HAVE_LIBFUZZER)
	set(AGW_FUZZ_FLAGS -fsanitize=fuzzer,address,undefined
		-fno-sanitize-recover=undefined -fno-omit-frame-pointer -g -O1)

	# fuzz_http: the HTTP/1.1 parser and serializer (gateway/http.c).
	add_executable(fuzz_http fuzz_http.c ${PROJECT_SOURCE_DIR}/gateway/http.c)
	target_include_directories(fuzz_http PRIVATE ${PROJECT_SOURCE_DIR}/gateway)
	target_compile_options(fuzz_http PRIVATE ${AGW_FUZZ_FLAGS})
	target_link_options(fuzz_http PRIVATE ${AGW_FUZZ_FLAGS})
	target_link_libraries(fuzz_http PRIVATE agw_flags PkgConfig::LIBEVENT)
	set_target_properties(fuzz_http PROPERTIES
		RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/fuzz)
else()
	message(STATUS "clang without libFuzzer: fuzz targets not built")
endif()
