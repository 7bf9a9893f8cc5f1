# twin/scenario and twin/cli as users run them (root; each exits 77, skipped, without it): the seed in both
# worlds must pass live and agree with the simulator; the lossy-owner scenario (loss on the VIP owner's link)
# must agree too; the dual-stack scenario passes live; a run interrupted at a random moment, or killed, leaves
# nothing behind.
if(TARGET metalgate-netns AND TARGET metalgate-sim)
  # The seed's failovers by the median of three live runs: one run's detection varies with the probe round
  # the crash lands in (reports/sim-vs-live.md).
  add_test(NAME twin.compare_seed COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/twin/compare_seed.sh
                                          $<TARGET_FILE:metalgate> ${PROJECT_SOURCE_DIR}/scenarios/seed.yaml
                                          --live-runs 3)
  add_test(NAME twin.compare_lossy-owner COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/twin/compare_seed.sh
                                                 $<TARGET_FILE:metalgate> ${PROJECT_SOURCE_DIR}/scenarios/lossy-owner.yaml)
  set_tests_properties(twin.compare_seed twin.compare_lossy-owner PROPERTIES TIMEOUT 900 SKIP_RETURN_CODE 77
                                                                             RUN_SERIAL TRUE)
endif()
if(TARGET metalgate-netns)
  # Dual stack, live only: both VIPs fail over, the IPv6 one announced by NDP.
  add_test(NAME twin.dual_stack COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/twin/live_scenario.sh
                                        $<TARGET_FILE:metalgate> ${PROJECT_SOURCE_DIR}/scenarios/dual-stack.yaml
                                        fd00:1::240 192.168.1.240)
  set_tests_properties(twin.dual_stack PROPERTIES TIMEOUT 300 SKIP_RETURN_CODE 77 RUN_SERIAL TRUE)
  # Real redis-server, PostgreSQL and dnsmasq pods, and real redis-cli, psql and dig through the VIP.
  add_test(NAME twin.data_services COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/twin/data_services.sh
                                           $<TARGET_FILE:metalgate> ${PROJECT_SOURCE_DIR}/scenarios/data-services.yaml)
  set_tests_properties(twin.data_services PROPERTIES TIMEOUT 300 SKIP_RETURN_CODE 77 RUN_SERIAL TRUE)
  add_test(NAME twin.interrupted_run COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/twin/interrupted_run.sh
                                             $<TARGET_FILE:metalgate> ${PROJECT_SOURCE_DIR}/scenarios/seed.yaml)
  set_tests_properties(twin.interrupted_run PROPERTIES TIMEOUT 300 SKIP_RETURN_CODE 77)
endif()
