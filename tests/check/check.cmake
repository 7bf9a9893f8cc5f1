# tests/check mirrors check/: the case's document, the generators, the search; and metalgate check as users
# run it (the seed's default budget, and a deliberately failing property replayed by metalgate sim).
if(TARGET metalgate_check)
  metalgate_test(check_test check/emit_test.cc check/generators_test.cc check/checker_test.cc
                 check/from_manifests_test.cc check/ingress_rules_test.cc
                 check/properties_test.cc)
  target_link_libraries(check_test PRIVATE metalgate_check)
  add_test(NAME check.seed COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/check/check_seed.sh $<TARGET_FILE:metalgate>
                                   ${PROJECT_SOURCE_DIR}/scenarios/seed.yaml)
  add_test(NAME check.failure_replays COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/check/failure_replays.sh
                                              $<TARGET_FILE:metalgate> ${PROJECT_SOURCE_DIR}/scenarios/seed.yaml)
  set_tests_properties(check.seed check.failure_replays PROPERTIES TIMEOUT 600)
endif()
