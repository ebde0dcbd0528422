package ai.deepchat.platform.outbound;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.List;

/**
 * Looks a host name up (blocking). The system resolver in production; tests inject their own answers
 * to show that a connection goes to the address that was checked, whatever a second lookup would say.
 */
@FunctionalInterface
public interface HostResolver {

  HostResolver SYSTEM = host -> List.of(InetAddress.getAllByName(host));

  List<InetAddress> resolve(String host) throws UnknownHostException;
}
