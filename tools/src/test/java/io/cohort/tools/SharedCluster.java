package io.cohort.tools;

import io.cohort.server.testing.MiniCluster;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * One three-node in-JVM cluster for all of the CLI's test classes (starting one costs seconds on
 * two cores); closed when the test run ends. Each class uses its own topic and group names.
 */
final class SharedCluster implements ExtensionContext.Store.CloseableResource {
  private final MiniCluster cluster;
  private final Path dir;

  private SharedCluster() throws IOException {
    dir = Files.createTempDirectory("cohort-cli-test-");
    cluster = MiniCluster.start(3, dir);
    cluster.leaderId();
  }

  static MiniCluster get(ExtensionContext context) {
    return context.getRoot().getStore(ExtensionContext.Namespace.GLOBAL)
        .getOrComputeIfAbsent(SharedCluster.class, k -> {
          try {
            return new SharedCluster();
          } catch (IOException e) {
            throw new UncheckedIOException(e);
          }
        }, SharedCluster.class).cluster;
  }

  /** {@code @ExtendWith(SharedCluster.Resolver.class)}: a MiniCluster parameter gets the shared cluster. */
  static final class Resolver implements ParameterResolver {
    @Override
    public boolean supportsParameter(ParameterContext p, ExtensionContext c) {
      return p.getParameter().getType() == MiniCluster.class;
    }

    @Override
    public Object resolveParameter(ParameterContext p, ExtensionContext c) {
      return get(c);
    }
  }

  @Override
  public void close() throws IOException {
    cluster.close();
    try (Stream<Path> files = Files.walk(dir)) {
      files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
  }
}
