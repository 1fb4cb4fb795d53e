# TENURE_SANITIZE=address builds everything with ASan+UBSan; =thread with TSan.
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
