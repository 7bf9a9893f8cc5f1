# tests/check mirrors check/: the case's document, the generators, the search; and metalgate check as users
# run it (the seed's default budget, and a deliberately failing property replayed by metalgate sim).
if(TARGET metalgate_check_memory)
  metalgate_test(check_memory_test check/allocation_test.cc check/balancing_test.cc check/health_test.cc check/rate_limit_test.cc)
  target_link_libraries(check_memory_test PRIVATE metalgate_check_memory)
endif()
if(TARGET metalgate_check)
  metalgate_test(check_generated_test check/generated_base_test.cc)
  target_link_libraries(check_generated_test PRIVATE metalgate_check)
  metalgate_test(check_test check/base_test.cc check/emit_test.cc check/generators_test.cc check/checker_test.cc
                 check/from_manifests_test.cc check/ingress_rules_test.cc
                 check/properties_test.cc check/reload_manifests_test.cc check/announcers_test.cc)
  target_link_libraries(check_test PRIVATE metalgate_check)
  add_test(NAME check.seed COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/check/check_seed.sh $<TARGET_FILE:metalgate>
                                   ${PROJECT_SOURCE_DIR}/scenarios/seed.yaml)
  add_test(NAME check.failure_replays COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/check/failure_replays.sh
                                              $<TARGET_FILE:metalgate> ${PROJECT_SOURCE_DIR}/scenarios/seed.yaml)
  add_test(NAME check.generated COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/check/check_generated.sh
                                          $<TARGET_FILE:metalgate>)
  set_tests_properties(check.seed check.failure_replays check.generated PROPERTIES TIMEOUT 900)
  if(METALGATE_MUTANTS)
    add_test(NAME check.mutants COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/check/mutants.sh $<TARGET_FILE:metalgate>
                                        ${PROJECT_SOURCE_DIR}/scenarios/seed.yaml
                                        ${PROJECT_SOURCE_DIR}/engine/mutants/mutants.cc)
    set_tests_properties(check.mutants PROPERTIES TIMEOUT 600)
  endif()
endif()
