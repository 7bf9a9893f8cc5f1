# twin/lan: the live twin's LAN made for real (namespaces, veths, bridges, faults); root only, skipped
# otherwise.
# Safe beside other tests: every LAN's names carry its process's PID, and cleanup_stale removes only the
# namespaces of runs whose process is gone.
if(TARGET metalgate_twin_lan)
  metalgate_test(netns_lan_test twin/netns_lan_test.cc)
  target_link_libraries(netns_lan_test PRIVATE metalgate_twin_lan)
endif()
