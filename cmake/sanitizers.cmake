# TENURE_SANITIZE=address builds everything with ASan+UBSan; =thread with TSan.
# TENURE_BUILD_FUZZ=ON (clang only) builds everything for libFuzzer with ASan+UBSan.
if(TENURE_BUILD_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "TENURE_BUILD_FUZZ needs clang: -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++")
  endif()
  if(NOT TENURE_SANITIZE STREQUAL "")
    message(FATAL_ERROR "TENURE_BUILD_FUZZ already sanitizes (ASan+UBSan): leave TENURE_SANITIZE empty")
  endif()
  add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer
                      -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
endif()
if(TENURE_SANITIZE STREQUAL "address")
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
elseif(TENURE_SANITIZE STREQUAL "thread")
  # g++ warns that atomic_thread_fence (used by Asio) is not instrumented; harmless here.
  add_compile_options(-fsanitize=thread -fno-omit-frame-pointer -Wno-tsan)
  add_link_options(-fsanitize=thread)
elseif(NOT TENURE_SANITIZE STREQUAL "")
  message(FATAL_ERROR "TENURE_SANITIZE must be '', 'address' or 'thread', not '${TENURE_SANITIZE}'")
endif()
