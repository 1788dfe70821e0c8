package io.cohort.tools.cli;

import com.beust.jcommander.converters.IParameterSplitter;
import java.util.List;

/** A repeatable option whose value may hold commas ({@code --node n1=10.0.0.1,n1.example}): one value per use. */
public final class NoSplit implements IParameterSplitter {
  @Override
  public List<String> split(String value) {
    return List.of(value);
  }
}
